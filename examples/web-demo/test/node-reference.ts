import { selectBackend } from '@spiketrack/neurons';
import {
  type Box,
  SpikeTrackModel,
  SyntheticSequence,
  type SyntheticSequenceOptions,
  Tracker,
} from 'spiketrack';

/**
 * What Node computes on wasm for the page's synthetic run: the same checkpoint bytes, the same
 * generated frames, the same initial box (read back from the page), frames 1 … `frames`.
 */
export async function trackInNode(
  checkpoint: Uint8Array,
  sequence: SyntheticSequenceOptions,
  initBox: Box,
  frames: number,
): Promise<{ boxes: Box[]; truth: Box[] }> {
  await selectBackend('wasm');
  const model = await SpikeTrackModel.fromCheckpoint(checkpoint, { strict: false });
  const tracker = await Tracker.create({ model });
  try {
    const seq = new SyntheticSequence(sequence);
    await tracker.initialize(seq.frame(0).image, initBox);
    const boxes: Box[] = [];
    const truth: Box[] = [];
    for (let i = 1; i <= frames; i++) {
      const f = seq.frame(i);
      boxes.push((await tracker.track(f.image)).box);
      truth.push(f.box);
    }
    return { boxes, truth };
  } finally {
    tracker.dispose();
    model.dispose();
  }
}
