import { formatShape } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from './command';

/** Help lines for the input tensors file of `spiketrack forward` and `spiketrack energy`. */
export const INPUT_IMAGES_HELP = `Input (safetensors): template_0 … template_{T-1} and search, each [1, 3, R, R] float32, NCHW,
normalized with the ImageNet mean/std (as the reference's fixtures).`;

/**
 * Checks and converts the input file's tensors: `template_i` (i < T) and `search`, each
 * `[1, 3, R, R]` float32 and finite. Returns NHWC tensors; disposes nothing of `tensors`.
 */
export async function inputImages(
  tensors: Map<string, tf.Tensor>,
  file: string,
  templates: number,
  resolution: number,
): Promise<{ templates: tf.Tensor[]; search: tf.Tensor }> {
  const expected = [...Array.from({ length: templates }, (_, i) => `template_${i}`), 'search'];
  const missing = expected.filter((k) => !tensors.has(k));
  const extra = [...tensors.keys()].filter((k) => /^template_\d+$/.test(k) && !expected.includes(k));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing ${missing.join(', ')}`);
  if (extra.length) {
    problems.push(`the config takes ${templates} template(s), but the file also has ${extra.join(', ')}`);
  }
  for (const k of expected) {
    const t = tensors.get(k);
    if (!t) continue;
    const shape = [1, 3, resolution, resolution];
    if (t.rank !== 4 || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(
        `${k} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)} (NCHW, R = ${resolution})`,
      );
    } else if (t.dtype !== 'float32') {
      problems.push(`${k} is ${t.dtype}, expected float32`);
    }
  }
  if (problems.length) throw new UsageError(`${file}: ${problems.join('; ')}`);
  for (const k of expected) {
    const finite = tf.tidy(() => tf.all(tf.isFinite(tensors.get(k)!)));
    const ok = (await finite.data())[0];
    finite.dispose();
    if (!ok) throw new UsageError(`${file}: ${k} holds NaN or infinite values`);
  }
  return tf.tidy(() => ({
    templates: expected.slice(0, -1).map((k) => tf.transpose(tensors.get(k)!, [0, 2, 3, 1])),
    search: tf.transpose(tensors.get('search')!, [0, 2, 3, 1]),
  }));
}
