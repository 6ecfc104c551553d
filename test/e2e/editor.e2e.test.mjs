// End to end: the packaged .vsix installed into a fresh code-server (without the smoke-test
// driver, so notifications and dialogs behave as for users), driven through Chromium.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * The README's picture: the editor of a profiled model with the Outliers heatmap below it. Kept
 * with the other screenshots; QUANTSCOPE_README_SHOT=1 lays the window out for it (no side bars,
 * one editor column) and writes it where the README shows it.
 */
async function readmeShot() {
  const file = join(shots, 'readme-editor-and-outliers.png');
  if (process.env.QUANTSCOPE_README_SHOT !== '1') {
    await page.screenshot({ path: file });
    return;
  }
  // One editor column and no side bars give the table its width; the Explorer comes back after.
  await runCommand('View: Single Column Editor Layout');
  await runCommand('View: Hide Secondary Side Bar');
  await runCommand('View: Close Primary Side Bar');
  await page.locator('.part.sidebar').waitFor({ state: 'hidden', timeout: 30_000 });
  await page.screenshot({ path: file });
  mkdirSync(join(root, 'media', 'readme'), { recursive: true });
  copyFileSync(file, join(root, 'media', 'readme', 'editor-and-outliers.png'));
  await runCommand('View: Show Explorer');
  await page.locator('.explorer-folders-view').waitFor({ state: 'visible', timeout: 30_000 });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns something truthy, or throws after `timeout` ms naming `what`.
 * Every wait in this file is on a state of the page, never a fixed delay: a loaded machine only
 * makes the polls take longer.
 */
async function until(what, probe, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}${last ? ` (last error: ${last.message ?? last})` : ''}`);
    await sleep(200);
  }
}

const quickInput = () => page.locator('.quick-input-widget');
const quickInputBox = () => page.locator('.quick-input-widget .quick-input-box input');

/** Closes any open QuickPick or menu and waits until it is gone. */
async function closeQuickInput() {
  for (let i = 0; i < 5 && (await quickInput().isVisible().catch(() => false)); i++) {
    await page.keyboard.press('Escape');
    await quickInput().waitFor({ state: 'hidden', timeout: 2_000 }).catch(() => undefined);
  }
}

/**
 * Types `text` into the open QuickPick's input and waits until the input holds it, so the filter
 * has run on what we typed. A busy workbench sometimes drops the first keystrokes or resets the
 * input while it renders; then it is typed again.
 */
async function typeIntoQuickInput(text) {
  const input = quickInputBox();
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await until('the QuickPick input to have focus', () => input.evaluate((el) => el.ownerDocument.activeElement === el), 10_000);
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt % 2) {
      await input.fill('');
      await input.pressSequentially(text, { delay: 10 });
    } else await input.fill(text);
    const held = await until('the QuickPick input to hold the text', async () => ((await input.inputValue()) === text ? true : undefined), 3_000).catch(() => false);
    if (held) return;
  }
  throw new Error(`the QuickPick input does not take "${text}" (it holds "${await input.inputValue().catch(() => '?')}")`);
}

/** The QuickPick row whose label is `label` (the command palette adds the keybinding after it). */
function quickPickRow(label) {
  return page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();
}

/**
 * Runs a palette command. The extension's commands reach the palette a few seconds after the
 * workbench shows, and under load the palette may open late or drop keys, so each stage waits
 * for its own state and the whole is retried until a generous deadline.
 */
async function runCommand(title, timeout = 120_000) {
  const deadline = Date.now() + timeout;
  for (let attempt = 0; ; attempt++) {
    try {
      await closeQuickInput();
      // Keyboard focus may be inside a webview, which keeps some keys; the status bar gives it back.
      await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 }, timeout: 10_000 });
      await page.keyboard.press(attempt % 2 ? 'Control+Shift+P' : 'F1');
      await typeIntoQuickInput(`>${title}`);
      const row = quickPickRow(title);
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      // Enter runs the focused row, which the filter puts first; make sure it is ours.
      await until(`"${title}" to be the focused palette row`, async () => (await page.locator('.quick-input-list .monaco-list-row.focused .label-name').first().innerText()).trim() === title, 5_000);
      await page.keyboard.press('Enter');
      await until('the palette to close after Enter', async () => !(await quickInputBox().inputValue().catch(() => '')).startsWith(`>${title}`) || !(await quickInput().isVisible()), 10_000);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`command "${title}" could not be run from the palette after ${attempt + 1} attempts: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Picks the QuickPick row that contains `text` in a QuickPick whose placeholder mentions `placeholder`. */
async function pick(text, placeholder = 'model') {
  await page.locator(`.quick-input-widget input[placeholder*="${placeholder}"]`).waitFor({ state: 'visible', timeout: 60_000 });
  await typeIntoQuickInput(text);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  // Enter takes the focused row; when the filter put another one first, the row is clicked.
  if (await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: text }).first().isVisible()) await page.keyboard.press('Enter');
  else await row.click();
}

/**
 * The webview whose page shows `selector`. VS Code draws every webview (editors and views) in an
 * overlay iframe, so the one we want is found by its content.
 */
async function webviewShowing(selector, timeout = 60_000) {
  return until(`a webview showing ${selector}`, async () => {
    const frames = page.locator('iframe.webview.ready');
    const n = await frames.count();
    for (let i = 0; i < n; i++) {
      const inner = frames.nth(i).contentFrame().locator('iframe#active-frame').contentFrame();
      if (await inner.locator(selector).first().isVisible().catch(() => false)) return inner;
    }
    return undefined;
  }, timeout);
}

/** Opens `file` through the palette and waits until its editor is the active tab and its page shows the model. */
async function openModel(file, ready = 'h1') {
  await runCommand('Quantscope: Open Model…');
  await pick(file);
  await page.locator(`.tabs-container .tab.active[data-resource-name="${file}"]`).first().waitFor({ state: 'visible', timeout: 60_000 });
  return webviewShowing(`${ready}:has-text("${file}")`, 90_000);
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
    // A Hugging Face-layout language model (config.json, model.safetensors, tokenizer.json).
    cpSync(join(root, 'test', 'fixtures', 'workspace', 'tiny_qwen2'), join(workspace, 'tiny_qwen2'), { recursive: true });
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
    await openModel('silero_vad_v5.onnx');
  });

  test('the webview renders the inputs and outputs that came from the worker', async () => {
    const frame = await webviewShowing('section.signature');
    await frame.locator('h1', { hasText: 'silero_vad_v5.onnx' }).waitFor({ timeout: 30_000 });
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

  test('the editor offers only what applies to Silero VAD, and Calibrate says why at once instead of asking for data', async () => {
    const editor = await openModel('silero_vad_v5.onnx');
    // The buttons come from the model's actions: Profile and Benchmark apply, Calibrate, Quantize and Prune do not.
    await editor.locator('.toolbar vscode-button', { hasText: 'Profile' }).waitFor({ timeout: 30_000 });
    const buttons = (await editor.locator('.toolbar vscode-button').allInnerTexts()).map((b) => b.trim());
    assert.deepEqual(buttons, ['Profile', 'Benchmark…', 'Show as Text']);
    const notes = await editor.locator('.action-notes').innerText();
    assert.match(notes, /Calibrate is not offered: silero_vad_v5\.onnx has no MatMul or Gemm with a constant weight in its main graph \(1 If node holds subgraphs/);
    assert.match(notes, /Quantize and Prune are not offered/);
    await runCommand('Quantscope: Calibrate Model…');
    const toast = page.locator('.notification-toast', { hasText: 'Calibrate is not available' }).first();
    await toast.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await toast.innerText(), /silero_vad_v5\.onnx has no MatMul or Gemm with a constant weight/);
    // No question came first: the calibration-data QuickPick never opened.
    assert.equal(await page.locator('.quick-input-widget input[placeholder*="calibration"]').isVisible(), false);
    await shot('calibrate-refused-silero');
    await runCommand('Notifications: Clear All Notifications');
    await toast.waitFor({ state: 'hidden', timeout: 30_000 });
  });

  test('the tensor heading follows the filter, and numbers fit their cells with the full value in the tooltip', async () => {
    const editor = await webviewShowing('section.tensors');
    const heading = editor.locator('section.tensors h2').first();
    const total = Number(/^Tensors \((\d+)\)$/.exec((await heading.innerText()).trim())?.[1]);
    assert.ok(total > 10, `Silero has hundreds of tensors: ${total}`);
    await editor.locator('section.tensors vscode-textfield').first().click();
    await page.keyboard.type('reparam_conv.weight');
    await until('the heading to count the filtered rows', async () => /^Tensors \(\d+ of \d+\)$/.test((await heading.innerText()).trim()), 20_000);
    const [, shown, of] = /^Tensors \((\d+) of (\d+)\)$/.exec((await heading.innerText()).trim());
    assert.equal(Number(of), total);
    assert.equal(Number(shown), await until('the rows to be drawn', async () => (await editor.locator('.vt-row').count()) || undefined), 'the heading counts the rows shown');
    await editor.locator('section.tensors vscode-textfield').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await until('the heading to count every row again', async () => (await heading.innerText()).trim() === `Tensors (${total})`, 20_000);
  });

  test('a truncated model shows a readable error page, not a blank editor', async () => {
    const frame = await openModel('broken.onnx', '.error-page h1');
    const message = await frame.locator('.error-message').innerText();
    assert.ok(message.length > 10, `the error names the problem: ${message}`);
    await shot('editor-broken-model');
  });

  test('a safetensors checkpoint lists its tensors in a sortable, filterable table', async () => {
    const frame = await openModel('all_dtypes.safetensors');
    await frame.locator('.vt-row').first().waitFor({ timeout: 30_000 });
    const status = frame.locator('.vt-status');
    assert.match(await status.innerText(), /^17 tensors$/);
    await frame.locator('vscode-textfield input, vscode-textfield').first().click();
    await page.keyboard.type('bf16');
    await frame.locator('.vt-status', { hasText: 'of 17 tensors' }).waitFor({ timeout: 30_000 });
    const rows = await frame.locator('.vt-row').allInnerTexts();
    assert.ok(rows.length >= 1 && rows.every((r) => /bf16|BF16/i.test(r)), `filtered rows: ${rows.join(' | ')}`);
    await shot('editor-safetensors-table');
  });

  test('a malicious pickle is refused with the global it tried to load', async () => {
    const frame = await openModel('malicious_zip.pt', '.error-page h1');
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
    const editor = await openModel('silero_vad_v5.onnx');
    await runCommand('Quantscope: Profile Model');
    await editor.locator('.detail-head .hint', { hasText: 'Statistics of' }).waitFor({ timeout: 90_000 });
    // Sort by absmax, largest first, and open the detail of the top tensor.
    const absmax = editor.locator('.vt-head', { hasText: 'Absmax' });
    await absmax.click();
    await absmax.click();
    await editor.locator('.vt-row').first().click();
    await editor.locator('.detail h3', { hasText: 'Histogram' }).waitFor({ timeout: 30_000 });
    // Numbers fit their cells (nothing cut to "256.…"), and the tooltip holds the full value.
    const cells = await editor.locator('.vt-row .vt-cell.right').evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', title: e.getAttribute('title') ?? '', cut: e.scrollWidth > e.clientWidth })));
    const numeric = cells.filter((c) => /^-?[\d.]+(e-?\d+)?%?$/.test(c.text) && c.title !== c.text);
    assert.ok(numeric.length > 20, `rounded numbers are shown: ${numeric.length}`);
    for (const c of cells) assert.ok(!c.cut, `"${c.text}" fits its cell`);
    for (const c of numeric.filter((n) => !n.text.endsWith('%'))) {
      const full = Number(c.title);
      assert.ok(Number.isFinite(full) && Math.abs(Number(c.text) - full) <= Math.abs(full) * 5e-3, `${c.text} is ${c.title} rounded`);
    }
    const detail = await editor.locator('.detail').innerText();
    assert.match(detail, /Quantization error per scheme/);
    assert.match(detail, /int8-per-tensor/);
    await shot('editor-profile-detail');

    const view = await webviewShowing('.heatmap-box canvas', 30_000);
    assert.match(await view.locator('.heatmap-title').innerText(), /silero_vad_v5\.onnx: weight absmax per input channel/);
    // The colour legend names the smallest and largest absmax on the map.
    const legend = await view.locator('.heatmap-legend').innerText();
    assert.match(legend, /min [-\d.e]+/);
    assert.match(legend, /max [-\d.e]+/);
    assert.match(await view.locator('.heatmap-legend').getAttribute('aria-label'), /logarithmic/);
    await shot('outliers-heatmap');
    await readmeShot();
    // A click on a cell reveals that layer's weight in the editor.
    const box = await view.locator('.heatmap-box canvas').boundingBox();
    assert.ok(box);
    await view.locator('.heatmap-box canvas').click({ position: { x: box.width * 0.5, y: box.height * 0.3 } });
    await editor.locator('.vt-row.selected').waitFor({ timeout: 30_000 });
    // From the keyboard: the arrows choose a layer row and say which.
    await view.locator('.heatmap-box canvas').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await view.locator('.heatmap-status', { hasText: 'Layer 2 of' }).waitFor({ timeout: 30_000 });
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

  test('Quantize Layer… on a Hugging Face checkpoint\'s model.safetensors builds its graph, quantizes with GPTQ INT4 and opens the diff and the report', async () => {
    const folder = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'tiny_qwen2' }).first();
    const weights = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'model.safetensors' }).first();
    await until('tiny_qwen2 to be expanded in the Explorer', async () => {
      if (await weights.isVisible().catch(() => false)) return true;
      if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
      return undefined;
    }, 30_000);
    await quantizeFromExplorer('model.safetensors');
    await step('layers');
    await step('method', 'GPTQ');
    await step('bits and output format', 'INT4 MatMulNBits');
    await step('block size', 'Block 32');
    // The tokenizer.json beside the weights makes text calibration one of the choices.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Text file (tokenized with tiny_qwen2/tokenizer.json)' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await step('calibration data', 'Generated inputs');
    await page.locator('.tabs-container .tab', { hasText: 'model.safetensors ↔ model.q4.onnx' }).waitFor({ state: 'visible', timeout: 180_000 });
    await page.locator('.monaco-diff-editor .view-lines', { hasText: 'MatMulNBits' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    const preview = await webviewShowing('h1:has-text("model.q4.onnx")', 60_000);
    const report = await preview.locator('body').innerText();
    assert.match(report, /gptq/i);
    assert.match(report, /relative L2/);
    await shot('quantize-language-model-diff-and-report');
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
    await page.locator('.quick-input-list .monaco-list-row[aria-label^="ppocr_rec.q4.onnx"]').first().waitFor({ state: 'visible', timeout: 60_000 });
    // A click on a row's checkbox of a multi-select QuickPick ticks it. The hover of the row
    // ticked before can cover the next one and keep the pointer's click from landing; then the
    // click is delivered to the checkbox itself. Either way the tick is checked, not assumed.
    for (const model of ['ppocr_rec.onnx', 'ppocr_rec.w8a8.onnx', 'ppocr_rec.q4.onnx']) {
      const box = page.locator(`.quick-input-list .monaco-list-row[aria-label^="${model}"]`).first().locator('.monaco-checkbox, input[type=checkbox], .quick-input-list-checkbox').first();
      await until(`${model} to be ticked`, async () => {
        if ((await box.getAttribute('aria-checked')) === 'true' || (await box.isChecked().catch(() => false))) return true;
        const clicked = await box.click({ timeout: 3_000 }).then(() => true, () => false);
        if (!clicked) await box.dispatchEvent('click');
        return undefined;
      }, 60_000);
    }
    await page.locator('.quick-input-widget', { hasText: '3 Selected' }).waitFor({ timeout: 30_000 });
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
    await openModel('ppocr_rec.onnx');
    await runCommand('Quantscope: Calibrate Model…');
    const source = page.locator('.quick-input-widget input[placeholder*="calibration"]');
    await source.waitFor({ state: 'visible', timeout: 60_000 });
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
