// End to end: the packaged .vsix installed into a fresh code-server (without the smoke-test
// driver, so notifications and dialogs behave as for users), driven through Chromium.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeServerCli, launchBrowser, root, startCodeServer, workbenchUrl } from '../../scripts/lib/codeServer.mjs';

const shots = join(root, 'test-results', 'e2e');
mkdirSync(shots, { recursive: true });
const vsixFile = join(root, 'dist', 'vsix-path.txt');

let server;
let browser;
let page;
const dataDir = mkdtempSync(join(tmpdir(), 'quantscope-e2e-'));
const workspace = join(dataDir, 'workspace');

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** Runs a palette command, retrying while the extension's commands are still being registered. */
async function runCommand(title) {
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    try {
      // Keyboard focus may be inside a webview, which keeps some keys; the status bar gives it back.
      await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Escape');
      await page.keyboard.press(attempt % 2 ? 'Control+Shift+P' : 'F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${title}`);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 3_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`command "${title}" could not be run from the palette: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Picks the first QuickPick row that contains `text`. */
async function pick(text) {
  const input = page.locator('.quick-input-widget input[placeholder*="model"]');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill(text);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor({ state: 'visible', timeout: 20_000 });
  await page.keyboard.press('Enter');
}

/**
 * The webview whose page shows `selector`. VS Code draws every webview (editors and views) in an
 * overlay iframe, so the one we want is found by its content.
 */
async function webviewShowing(selector, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const frames = page.locator('iframe.webview.ready');
    const n = await frames.count();
    for (let i = 0; i < n; i++) {
      const inner = frames.nth(i).contentFrame().locator('iframe#active-frame').contentFrame();
      if (await inner.locator(selector).first().isVisible().catch(() => false)) return inner;
    }
    if (Date.now() > deadline) throw new Error(`no webview shows ${selector}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Quantscope in code-server (installed .vsix)', { timeout: 600_000 }, () => {
  before(async () => {
    assert.ok(existsSync(vsixFile), 'the .vsix was packaged first (npm run package)');
    const vsix = readFileSync(vsixFile, 'utf8').trim();
    mkdirSync(workspace, { recursive: true });
    copyFileSync(join(root, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx'), join(workspace, 'silero_vad_v5.onnx'));
    copyFileSync(join(root, 'test', 'fixtures', 'workspace', 'tiny_mlp.onnx'), join(workspace, 'tiny_mlp.onnx'));
    copyFileSync(join(root, 'test', 'fixtures', 'workspace', 'broken.onnx'), join(workspace, 'broken.onnx'));
    copyFileSync(join(root, 'test', 'fixtures', 'safetensors', 'all_dtypes.safetensors'), join(workspace, 'all_dtypes.safetensors'));
    copyFileSync(join(root, 'test', 'fixtures', 'pytorch', 'malicious_zip.pt'), join(workspace, 'malicious_zip.pt'));
    copyFileSync(join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx'), join(workspace, 'ppocr_rec.onnx'));
    // Few calibration batches keep the test quick; the setting is what a user would change.
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'quantscope.calibration.samples': 2, 'quantscope.calibration.sequenceLength': 64, 'quantscope.benchmark.runs': 10, 'quantscope.benchmark.warmup': 2 }));
    // INT8 and INT4 versions of the real recognizer, written by our own CLI, for the benchmark.
    for (const args of [['--bits', '8', '--format', 'dynamic'], ['--bits', '4', '--group', '32', '--format', 'nbits']]) {
      const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'quantize', join(workspace, 'ppocr_rec.onnx'), '--method', 'rtn', ...args, '--samples', '1', '--seq', '64'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const log = join(shots, 'code-server.log');
    await codeServerCli(['--user-data-dir', join(dataDir, 'user-data'), '--extensions-dir', join(dataDir, 'extensions'), '--install-extension', vsix, '--force'], { logFile: log });
    server = await startCodeServer({ dataDir, logFile: log });
    ({ browser, page } = await launchBrowser());
    await page.goto(workbenchUrl(server.baseUrl, server.port, { folder: workspace }));
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
  });

  afterEach(async (t) => {
    // What the screen showed at the end of each test: evidence when one fails.
    if (page) await shot(`after-${t.name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
    // Leave no menu or QuickPick open for the next test.
    await page?.keyboard.press('Escape').catch(() => undefined);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the palette command opens a real ONNX model in the checkpoint editor', async () => {
    await runCommand('Quantscope: Open Model…');
    await pick('silero_vad_v5.onnx');
    const tab = page.locator('.tabs-container .tab', { hasText: 'silero_vad_v5.onnx' });
    await tab.waitFor({ state: 'visible', timeout: 30_000 });
  });

  test('the webview renders the inputs and outputs that came from the worker', async () => {
    const frame = await webviewShowing('section.signature');
    await frame.locator('h1', { hasText: 'silero_vad_v5.onnx' }).waitFor({ timeout: 10_000 });
    const text = await frame.locator('main').innerText();
    assert.match(text, /Inputs \(3\)/);
    assert.match(text, /Outputs \(2\)/);
    for (const name of ['input', 'state', 'sr', 'output', 'stateN']) assert.ok(text.includes(name), `shows ${name}`);
    assert.match(text, /int64/);
    assert.match(text, /ONNX Runtime/);
    assert.match(text, /Parameters by element type/);
    assert.match(text, /Tensors \(\d+\)/);
    await shot('editor-silero-vad');
  });

  test('a truncated model shows a readable error page, not a blank editor', async () => {
    await runCommand('Quantscope: Open Model…');
    await pick('broken.onnx');
    const frame = await webviewShowing('.error-page');
    await frame.locator('.error-page h1', { hasText: 'broken.onnx' }).waitFor({ timeout: 10_000 });
    const message = await frame.locator('.error-message').innerText();
    assert.ok(message.length > 10, `the error names the problem: ${message}`);
    await shot('editor-broken-model');
  });

  test('a safetensors checkpoint lists its tensors in a sortable, filterable table', async () => {
    await runCommand('Quantscope: Open Model…');
    await pick('all_dtypes.safetensors');
    const frame = await webviewShowing('.vt-row');
    await frame.locator('h1', { hasText: 'all_dtypes.safetensors' }).waitFor({ timeout: 10_000 });
    const status = frame.locator('.vt-status');
    assert.match(await status.innerText(), /^17 tensors$/);
    await frame.locator('vscode-textfield input, vscode-textfield').first().click();
    await page.keyboard.type('bf16');
    await frame.locator('.vt-status', { hasText: 'of 17 tensors' }).waitFor({ timeout: 10_000 });
    const rows = await frame.locator('.vt-row').allInnerTexts();
    assert.ok(rows.length >= 1 && rows.every((r) => /bf16|BF16/i.test(r)), `filtered rows: ${rows.join(' | ')}`);
    await shot('editor-safetensors-table');
  });

  test('a malicious pickle is refused with the global it tried to load', async () => {
    await runCommand('Quantscope: Open Model…');
    await pick('malicious_zip.pt');
    const frame = await webviewShowing('.error-page');
    const message = await frame.locator('.error-message').innerText();
    assert.match(message, /refusing to load global os\.system/);
    await shot('editor-malicious-pickle');
  });

  test('the Outliers panel view explains itself before any profile', async () => {
    await runCommand('Quantscope: Focus on Outliers View');
    const view = await webviewShowing('.empty');
    assert.match(await view.locator('.empty').innerText(), /Profile Model/);
    await shot('outliers-view-empty');
  });

  test('Profile Model fills the statistics columns, the detail pane and the heatmap', async () => {
    await runCommand('Quantscope: Open Model…');
    await pick('silero_vad_v5.onnx');
    await runCommand('Quantscope: Profile Model');
    const editor = await webviewShowing('.vt-row');
    await editor.locator('.detail-head .hint', { hasText: 'Statistics of' }).waitFor({ timeout: 90_000 });
    // Sort by absmax, largest first, and open the detail of the top tensor.
    const absmax = editor.locator('.vt-head', { hasText: 'Absmax' });
    await absmax.click();
    await absmax.click();
    await editor.locator('.vt-row').first().click();
    await editor.locator('.detail h3', { hasText: 'Histogram' }).waitFor({ timeout: 10_000 });
    const detail = await editor.locator('.detail').innerText();
    assert.match(detail, /Quantization error per scheme/);
    assert.match(detail, /int8-per-tensor/);
    await shot('editor-profile-detail');

    const view = await webviewShowing('.heatmap-box canvas', 30_000);
    assert.match(await view.locator('.heatmap-title').innerText(), /silero_vad_v5\.onnx: weight absmax per input channel/);
    await shot('outliers-heatmap');
    // A click on a cell reveals that layer's weight in the editor.
    const box = await view.locator('.heatmap-box canvas').boundingBox();
    assert.ok(box);
    await view.locator('.heatmap-box canvas').click({ position: { x: box.width * 0.5, y: box.height * 0.3 } });
    await editor.locator('.vt-row.selected').waitFor({ timeout: 10_000 });
  });

  /** Right-clicks `file` in the Explorer and chooses Quantize Layer…, retrying until the first QuickPick shows. */
  async function quantizeFromExplorer(file) {
    // The context menu sometimes closes before a click lands; try again until the flow starts.
    const item = page.locator('.context-view .action-item', { hasText: 'Quantize Layer…' }).first();
    const firstStep = page.locator('.quick-input-widget', { hasText: 'layers' }).first();
    for (let attempt = 0; ; attempt++) {
      await page.keyboard.press('Escape');
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).first().click({ button: 'right' });
      try {
        await item.waitFor({ state: 'visible', timeout: 5_000 });
        await item.hover();
        await item.click();
        await firstStep.waitFor({ state: 'visible', timeout: 8_000 });
        return;
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
  }

  /** Waits for the QuickPick whose title or placeholder has `placeholderOrTitle`, then clicks `row` (or accepts). */
  async function step(placeholderOrTitle, row) {
    await page.locator('.quick-input-widget', { hasText: placeholderOrTitle }).first().waitFor({ state: 'visible', timeout: 30_000 });
    if (row) await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().click();
    else await page.keyboard.press('Enter');
  }

  test('right-click Quantize Layer… walks the QuickPicks, writes a new model and opens the diff and the report', async () => {
    await quantizeFromExplorer('tiny_mlp.onnx');
    await step('layers'); // both layers are ticked; accept them
    await step('method', 'RTN');
    await step('bits and output format', 'INT4 MatMulNBits');
    await step('block size', 'Block 32');
    const diffTab = page.locator('.tabs-container .tab', { hasText: 'tiny_mlp.onnx ↔ tiny_mlp.q4.onnx' });
    await diffTab.waitFor({ state: 'visible', timeout: 90_000 });
    // The model text comes from the worker, so the diff fills in a moment after the tab opens.
    await page.locator('.monaco-diff-editor .view-lines', { hasText: 'MatMulNBits' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    const preview = await webviewShowing('table', 60_000);
    const report = await preview.locator('body').innerText();
    assert.match(report, /tiny_mlp\.onnx → tiny_mlp\.q4\.onnx/);
    assert.match(report, /relative L2/);
    await shot('quantize-diff-and-report');
  });

  test('a mixed-precision plan opens as a recipe; its Apply lens quantizes by it and opens the diff', async () => {
    await quantizeFromExplorer('ppocr_rec.onnx');
    await step('layers');
    await step('method', 'Mixed-precision plan');
    await step('budget', '6 bits per weight');
    await step('how the weights are rounded', 'RTN');
    await step('calibration data', 'Generated inputs');
    await page.locator('.tabs-container .tab', { hasText: 'ppocr_rec.plan.qrecipe.yaml' }).waitFor({ state: 'visible', timeout: 120_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: 'int8-channel' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Apply this plan' }).first();
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    await shot('plan-recipe');
    await lens.click();
    await page.locator('.tabs-container .tab', { hasText: 'ppocr_rec.onnx ↔ ppocr_rec.mixed.onnx' }).waitFor({ state: 'visible', timeout: 120_000 });
    const preview = await webviewShowing('h2:has-text("Mixed-precision plan")', 60_000);
    const report = await preview.locator('body').innerText();
    assert.match(report, /int8-channel/);
    await shot('plan-diff-and-report');
  });

  test('Benchmark Model… compares the FP32 PP-OCRv4 recognizer with its INT8 and INT4 outputs and explains the result', async () => {
    await runCommand('Quantscope: Benchmark Model…');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 20_000 });
    // A click on a row's checkbox of a multi-select QuickPick ticks it.
    for (const model of ['ppocr_rec.onnx', 'ppocr_rec.w8a8.onnx', 'ppocr_rec.q4.onnx']) {
      const row = page.locator(`.quick-input-list .monaco-list-row[aria-label^="${model}"]`).first();
      await row.locator('input[type=checkbox], .monaco-checkbox, .quick-input-list-checkbox').first().click();
    }
    await page.locator('.quick-input-widget', { hasText: '3 Selected' }).waitFor({ timeout: 10_000 });
    // Enter on a focused row of a multi-select list toggles it; the OK button accepts.
    await page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).first().click();
    const bench = await webviewShowing('section.verdicts', 180_000);
    const text = await bench.locator('main').innerText();
    for (const model of ['ppocr_rec.onnx', 'ppocr_rec.w8a8.onnx', 'ppocr_rec.q4.onnx']) assert.ok(text.includes(model), `the page covers ${model}`);
    assert.match(text, /^Benchmark: ppocr_rec\.onnx vs /m, 'the FP32 model is the baseline');
    assert.match(text, /p50/);
    assert.match(text, /MatMulNBits/, 'the explanation names the operators that ran');
    assert.match(text, /DynamicQuantizeMatMul|MatMulInteger/);
    assert.match(text, /AVX2/, 'and the CPU features');
    await shot('benchmark-result');
  });

  test('Calibrate Model ranks the layers of the real PP-OCRv4 recognizer and shows activation outliers', async () => {
    await runCommand('Quantscope: Open Model…');
    await pick('ppocr_rec.onnx');
    await runCommand('Quantscope: Calibrate Model…');
    const source = page.locator('.quick-input-widget input[placeholder*="calibration"]');
    await source.waitFor({ state: 'visible', timeout: 20_000 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Generated inputs' }).first().click();
    const editor = await webviewShowing('section.layers', 180_000);
    const text = await editor.locator('section.layers').innerText();
    assert.match(text, /Layers: activations and sensitivity \(9\)/);
    assert.match(text, /Synthetic calibration/);
    assert.match(text, /p2o\.MatMul\.\d+/);
    await editor.locator('section.layers').scrollIntoViewIfNeeded();
    await shot('editor-calibration-layers');
    const view = await webviewShowing('.heatmap-title', 30_000);
    await view.locator('.heatmap-title', { hasText: 'ppocr_rec.onnx: activation absmax per input channel' }).waitFor({ timeout: 20_000 });
    await shot('outliers-activations');
  });
});
