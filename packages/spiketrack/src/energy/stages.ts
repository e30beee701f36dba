/**
 * The stages of the SpikeTrack network that energy reports group layers into: the backbone's four
 * stages, the six memory retrieval modules and the head.
 */
export const TRACKER_STAGES = [
  'stage1',
  'stage2',
  'stage3',
  'stage4',
  'mrm.0',
  'mrm.1',
  'mrm.2',
  'mrm.3',
  'mrm.4',
  'mrm.5',
  'head',
] as const;

/** A stage name of {@link TRACKER_STAGES}, or `other` for a layer outside the tracker's tree. */
export type TrackerStage = (typeof TRACKER_STAGES)[number] | 'other';

/** The backbone's children (the reference's names) and the stage (index into `dims`) they belong to. */
const BACKBONE_STAGE: Readonly<Record<string, TrackerStage>> = {
  downsample1_1: 'stage1',
  ConvBlock1_1: 'stage1',
  downsample1_2: 'stage1',
  ConvBlock1_2: 'stage1',
  downsample2: 'stage2',
  ConvBlock2_1: 'stage2',
  ConvBlock2_2: 'stage2',
  downsample3: 'stage3',
  block3: 'stage3',
  downsample4: 'stage4',
  block4: 'stage4',
};

/**
 * The stage of a recorded layer path of a `SpikeTrackModel` (`encoder.block3.0.attn.q_conv.0` →
 * `stage3`, `encoder.mrm.2.retriever.kv` → `mrm.2`, `decoder.conv1_ctr.0` → `head`).
 */
export function trackerStageOf(path: string): TrackerStage {
  const parts = path.split('.');
  if (parts[0] === 'decoder') return 'head';
  if (parts[0] !== 'encoder') return 'other';
  if (parts[1] === 'mrm') {
    const stage = `mrm.${parts[2]}`;
    return (TRACKER_STAGES as readonly string[]).includes(stage) ? (stage as TrackerStage) : 'other';
  }
  return BACKBONE_STAGE[parts[1] ?? ''] ?? 'other';
}
