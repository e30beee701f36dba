import * as gifenc from 'gifenc';

/** The gifenc functions spiketrack uses. */
export interface GifencApi {
  GIFEncoder: typeof gifenc.GIFEncoder;
  quantize: typeof gifenc.quantize;
  applyPalette: typeof gifenc.applyPalette;
}

/**
 * gifenc's functions, however it was loaded: Node loads its CommonJS build (the functions are
 * then under `default`, and named ESM imports of them fail at startup), bundlers and vitest its
 * ESM build (named exports).
 */
export function gifencApi(): GifencApi {
  const mod = gifenc as unknown as Partial<GifencApi> & { default?: Partial<GifencApi> };
  const src = mod.GIFEncoder ? mod : (mod.default ?? {});
  if (!src.GIFEncoder || !src.quantize || !src.applyPalette) {
    throw new Error('gifenc: GIFEncoder, quantize or applyPalette not found in the installed package');
  }
  return src as GifencApi;
}
