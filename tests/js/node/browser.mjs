// Headless Chromium (Debian's package) driven by playwright-core, and a tiny static server.
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css' };

/** Serves `dir` on 127.0.0.1 (random port); `mounts` maps URL prefixes to other folders. */
export async function serve(dir, mounts = {}) {
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let base = dir;
    let rel = url;
    for (const [prefix, target] of Object.entries(mounts)) {
      if (url.startsWith(prefix)) {
        base = target;
        rel = url.slice(prefix.length - 1);
      }
    }
    let file = path.join(base, path.normalize(rel));
    try {
      if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** Opens `url`, waits for `window.__result`, returns it (and fails on page errors). */
export async function resultOf(browser, url, screenshot) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  try {
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 15_000 });
  } catch (e) {
    throw new Error(`no result at ${url}: ${errors.join('; ') || e.message}`);
  }
  if (screenshot) await page.screenshot({ path: screenshot });
  const result = await page.evaluate(() => window.__result);
  await page.close();
  return result;
}
