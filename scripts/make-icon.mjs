// Renders media/icon.svg to the 128×128 media/icon.png that the Marketplace and the Extensions
// view show, with the same headless Chromium the tests use. Run after editing the SVG:
//   node scripts/make-icon.mjs
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, root } from './lib/codeServer.mjs';

const svg = readFileSync(join(root, 'media', 'icon.svg'), 'utf8');
const { browser, page } = await launchBrowser({ width: 128, height: 128 });
try {
  await page.setContent(`<!doctype html><style>html,body{margin:0;background:transparent}svg{display:block}</style>${svg}`);
  await page.locator('svg').screenshot({ path: join(root, 'media', 'icon.png'), omitBackground: true });
  console.log('[icon] media/icon.png written (128×128)');
} finally {
  await browser.close();
}
