/**
 * Real-browser tests: Debian's Chromium (`apt-get install -y chromium`) driven by playwright-core.
 * No browser is ever downloaded. WebGPU needs `--enable-unsafe-webgpu` (SwiftShader without a
 * GPU; see PLATFORM notes in the repository's shared docs).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** The Chromium binary (`CHROMIUM_PATH` overrides). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or null when they can. In CI (`CI=true`) a missing
 * Chromium is an error, not a skip.
 */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const why = `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`browser tests: ${why}`);
  return why;
}

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** Start with WebGPU available (`--enable-unsafe-webgpu`; default true). */
  webgpu?: boolean;
  /** More command-line switches (e.g. the fake camera's). */
  args?: string[];
}

/** A headless Chromium with its own fresh profile; `close()` removes it. */
export interface LaunchedBrowser {
  context: BrowserContext;
  page: Page;
  /** The page's console lines and uncaught errors, for failure messages. */
  log: string[];
  close(): Promise<void>;
}

/** Launches Chromium headless, offline-friendly, with a fresh user data dir and one page. */
export async function launchChromium(opts: LaunchOptions = {}): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'spiketrack-chromium-'));
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    ...(opts.webgpu === false ? [] : ['--enable-unsafe-webgpu']),
    ...(opts.args ?? []),
  ];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args,
      viewport: { width: 1280, height: 900 },
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const log: string[] = [];
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  return {
    context,
    page,
    log,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The part of Vite's `preview` these tests use (passed in: each example has its own Vite). */
type VitePreview = (config: {
  root: string;
  logLevel: 'warn';
  preview: { port: number; strictPort: boolean; host: string };
}) => Promise<{ close(): Promise<void> }>;

/**
 * Serves an example's built `dist/` as `npm run web` does (`vite preview`, with the example's
 * `vite.config.ts`: 127.0.0.1 and the COOP/COEP headers) on a free port.
 */
export async function servePreview(
  preview: VitePreview,
  root: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const server = await preview({
    root,
    logLevel: 'warn',
    preview: { port, strictPort: true, host: '127.0.0.1' },
  });
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}
