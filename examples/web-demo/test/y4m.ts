import type { RgbImage } from 'spiketrack';

/**
 * YUV4MPEG2 (`.y4m`) bytes of RGB frames, 4:2:0 full range (`C420jpeg`, BT.601): the format
 * Chromium's `--use-file-for-fake-video-capture` plays as a camera. Width and height must be even.
 */
export function y4m(frames: readonly RgbImage[], fps = 30): Uint8Array {
  const first = frames[0];
  if (!first) throw new Error('y4m: no frames');
  const { width: W, height: H } = first;
  if (W % 2 || H % 2) throw new Error(`y4m: 4:2:0 needs an even size, got ${W} × ${H}`);
  const header = new TextEncoder().encode(`YUV4MPEG2 W${W} H${H} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const tag = new TextEncoder().encode('FRAME\n');
  const frameBytes = tag.length + (W * H * 3) / 2;
  const out = new Uint8Array(header.length + frames.length * frameBytes);
  out.set(header, 0);
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  frames.forEach((f, k) => {
    if (f.width !== W || f.height !== H)
      throw new Error(`y4m: frame ${k} is ${f.width} × ${f.height}, not ${W} × ${H}`);
    let o = header.length + k * frameBytes;
    out.set(tag, o);
    o += tag.length;
    const u = new Float64Array((W / 2) * (H / 2));
    const v = new Float64Array((W / 2) * (H / 2));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = (y * W + x) * 3;
        const r = f.data[i] as number;
        const g = f.data[i + 1] as number;
        const b = f.data[i + 2] as number;
        out[o + y * W + x] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
        const c = (y >> 1) * (W / 2) + (x >> 1);
        u[c] = (u[c] as number) + (-0.168736 * r - 0.331264 * g + 0.5 * b + 128) / 4;
        v[c] = (v[c] as number) + (0.5 * r - 0.418688 * g - 0.081312 * b + 128) / 4;
      }
    }
    o += W * H;
    for (let c = 0; c < u.length; c++) out[o + c] = clamp(u[c] as number);
    o += u.length;
    for (let c = 0; c < v.length; c++) out[o + c] = clamp(v[c] as number);
  });
  return out;
}
