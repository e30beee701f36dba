export { AdamW, type AdamWOptions, type ParamGroup } from './adamw';
export { type ClippedGradients, clipGradNorm } from './clip-grad-norm';
export { type StepLrOptions, stepLr } from './step-lr';
