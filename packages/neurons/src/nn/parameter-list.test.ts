import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors';
import { Module } from '../core/module';
import { ParameterList } from './parameter-list';

class Holder extends Module<[], number> {
  readonly t_pos_embeds = this.child('t_pos_embeds', new ParameterList([tf.zeros([1, 2]), tf.ones([1, 2])]));
  forward(): number {
    return this.t_pos_embeds.length;
  }
}

describe('ParameterList', () => {
  it("names parameters '0', '1', … like torch and loads them", async () => {
    const h = new Holder();
    expect([...h.namedParameters().keys()]).toEqual(['t_pos_embeds.0', 't_pos_embeds.1']);
    h.loadStateDict({ 't_pos_embeds.0': tf.tensor2d([[3, 4]]), 't_pos_embeds.1': tf.tensor2d([[5, 6]]) });
    expect(Array.from(await h.t_pos_embeds.at(-1).data())).toEqual([5, 6]);
    expect([...h.t_pos_embeds].length).toBe(2);
    expect(() => h.t_pos_embeds.at(2)).toThrow(ConfigError);
    expect(() => h.t_pos_embeds.apply()).toThrow(/not callable/);
    h.dispose();
  });
});
