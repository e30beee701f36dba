import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from './backend';

describe('--backend auto', () => {
  it('recognizes software WebGPU adapters, which it passes over for wasm', () => {
    for (const d of [
      'google / swiftshader / Subzero Processor / SwiftShader Device (Subzero)',
      'mesa / llvmpipe (LLVM 15.0.6, 256 bits)',
      'lavapipe',
      'Microsoft Basic Render Driver (software)',
    ]) {
      expect(isSoftwareAdapter(d), d).toBe(true);
    }
    for (const d of [
      'nvidia / ampere / NVIDIA H200',
      'apple / metal-3 / Apple M2',
      'intel / gen-12lp',
      undefined,
    ]) {
      expect(isSoftwareAdapter(d), String(d)).toBe(false);
    }
  });
});
