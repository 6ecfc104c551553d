// End to end: findings in the packaged .vsix, from the keyboard. A model with injected activation
// outliers is calibrated; its findings show in the Problems panel; Enter on one opens the model's
// text view on the layer, Ctrl+. lists the line's fixes, and the recommended SmoothQuant fix
// writes a new model beside the source (never over it, nor over a file already there) and opens
// the diff and the report.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeServerCli, launchBrowser, root, startCodeServer, workbenchUrl } from '../../scripts/lib/codeServer.mjs';
import { until, workbenchDriver } from './support/workbenchDriver.mjs';

const shots = join(root, 'test-results', 'e2e');
mkdirSync(shots, { recursive: true });
const vsixFile = join(root, 'dist', 'vsix-path.txt');
const dataDir = mkdtempSync(join(tmpdir(), 'quantscope-e2e-findings-'));
const workspace = join(dataDir, 'workspace');
const MODEL = 'outliers.onnx';
const LAYER = '/blocks.0/q/MatMul';
/** The name SmoothQuant's output would take; a file is put there first, so the fix must pick the next free name. */
const TAKEN = 'outliers.sq-w8a8s.onnx';
const OUTPUT = 'outliers.sq-w8a8s-1.onnx';
const FIX = `SmoothQuant (α = 0.5) + INT8 W8A8 on ${LAYER}`;

let server;
let browser;
let page;
let wb;

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) });

describe('Findings in code-server (installed .vsix), from the keyboard', { timeout: 600_000 }, () => {
  const before_ = {};

  before(async () => {
    assert.ok(existsSync(vsixFile), 'the .vsix was packaged first (npm run package)');
    const vsix = readFileSync(vsixFile, 'utf8').trim();
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    // The fixture with outlier channels 3, 11, 19, 27 injected after each norm.
    copyFileSync(join(root, 'test', 'fixtures', 'smooth', 'prenorm_outliers.onnx'), join(workspace, MODEL));
    writeFileSync(join(workspace, TAKEN), 'a file that was here first\n');
    before_.model = sha256(join(workspace, MODEL));
    before_.taken = sha256(join(workspace, TAKEN));
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'quantscope.calibration.samples': 2, 'quantscope.calibration.sequenceLength': 16 }));
    const log = join(shots, 'code-server-findings.log');
    await codeServerCli(['--user-data-dir', join(dataDir, 'user-data'), '--extensions-dir', join(dataDir, 'extensions'), '--install-extension', vsix, '--force'], { logFile: log });
    server = await startCodeServer({ dataDir, logFile: log });
    ({ browser, page } = await launchBrowser());
    wb = workbenchDriver(page);
    await page.goto(workbenchUrl(server.baseUrl, server.port, { folder: workspace }));
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
  });

  afterEach(async (t) => {
    if (page) await shot(`findings-after-${t.name.replace(/\W+/g, '-').slice(0, 50)}`).catch(() => undefined);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('calibrating the model puts its findings in the Problems panel', async () => {
    const editor = await wb.openModel(MODEL);
    await wb.runCommand('Quantscope: Calibrate Model…');
    await page.locator('.quick-input-widget input[placeholder*="calibration"]').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Generated inputs' }).first().click();
    await editor.locator('section.layers').first().waitFor({ state: 'visible', timeout: 180_000 });
    // The editor's Recommendations: severities as codicons in the theme's warning colour, fixes as focusable buttons.
    const rec = editor.locator('.recommendation.severity-warning', { hasText: LAYER }).first();
    await rec.waitFor({ state: 'visible', timeout: 60_000 });
    const icon = await rec.locator('.severity.codicon-warning').evaluate((el) => {
      const { getComputedStyle } = el.ownerDocument.defaultView;
      const style = getComputedStyle(el);
      const probe = el.ownerDocument.createElement('span');
      probe.style.color = 'var(--vscode-editorWarning-foreground)';
      el.ownerDocument.body.append(probe);
      const themed = getComputedStyle(probe).color;
      probe.remove();
      return { font: style.fontFamily, color: style.color, themed, glyph: getComputedStyle(el, '::before').content };
    });
    assert.match(icon.font, /codicon/, 'drawn with the codicon font');
    assert.notEqual(icon.glyph, 'none', 'the codicon class gives a glyph');
    assert.equal(icon.color, icon.themed, 'in the theme\'s warning colour');
    const button = rec.locator('.recommendation-fixes vscode-button').first();
    assert.ok(await button.evaluate((el) => el.tabIndex >= 0), 'the fix button takes the keyboard focus');
    await rec.scrollIntoViewIfNeeded();
    await shot('findings-editor-recommendations');
    // Ctrl+Shift+M opens the Problems panel; the palette is the fallback when the browser keeps the keys.
    await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+Shift+M');
    const panel = page.locator('.markers-panel');
    if (!(await panel.isVisible().catch(() => false))) {
      await panel.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => wb.runCommand('Problems: Focus on Problems View'));
    }
    await panel.waitFor({ state: 'visible', timeout: 30_000 });
    const row = panel.locator('.monaco-list-row', { hasText: `input channels of ${LAYER} are activation outliers` }).first();
    await row.waitFor({ state: 'visible', timeout: 120_000 });
    const text = await row.innerText();
    for (const c of ['3', '11', '19', '27']) assert.match(text, new RegExp(`\\b${c}\\b`), `channel ${c} is named: ${text}`);
    assert.match(text, /SmoothQuant \(α = 0\.5\)/);
    // The severity is drawn with the theme's warning codicon, not an image of its own.
    assert.ok(await row.locator('.codicon-warning').count(), 'a warning codicon on the row');
    await shot('findings-problems-panel');
  });

  test('Enter on the finding opens the text view on the layer; Ctrl+. lists its fixes and the recommended one writes a new model and opens the diff', async () => {
    const panel = page.locator('.markers-panel');
    const row = panel.locator('.monaco-list-row', { hasText: `input channels of ${LAYER} are activation outliers` }).first();
    // Focus the row, then open it from the keyboard.
    await row.click();
    await until('the finding row to have the focus', async () => (await row.getAttribute('class'))?.includes('focused'), 10_000);
    await page.keyboard.press('Enter');
    const textTab = page.locator('.tabs-container .tab.active', { hasText: `${MODEL}.qmodel` }).first();
    await textTab.waitFor({ state: 'visible', timeout: 60_000 });
    // The selection is on the layer's name; Ctrl+1 moves the keyboard focus from the Problems panel into that editor.
    await page.keyboard.press('Control+1');
    await until('the text view to take the keyboard focus', () => page.evaluate(() => Boolean(globalThis.document.activeElement?.closest('.editor-instance .monaco-editor'))), 10_000);
    await page.locator('.monaco-editor .squiggly-warning').first().waitFor({ state: 'attached', timeout: 30_000 });

    // The lightbulb shows on the layer's line.
    await page.locator('.monaco-editor .lightBulbWidget').first().waitFor({ state: 'attached', timeout: 30_000 });
    // Ctrl+. lists the fixes of the line. The text view is read-only, where VS Code's own Quick Fix
    // keybinding is disabled; the extension binds Ctrl+. there to the same actions in a QuickPick.
    const menu = page.locator('.quick-input-widget', { hasText: 'fixes for this line' });
    await until('Ctrl+. to list the SmoothQuant fix', async () => {
      if (!(await menu.isVisible().catch(() => false))) await page.keyboard.press('Control+Period');
      await menu.locator('.monaco-list-row', { hasText: FIX }).first().waitFor({ state: 'visible', timeout: 3_000 }).catch(() => undefined);
      return menu.locator('.monaco-list-row', { hasText: FIX }).first().isVisible();
    }, 60_000);
    const titles = (await menu.locator('.monaco-list-row .label-name').allInnerTexts()).map((t) => t.trim());
    assert.ok(titles[0]?.includes(FIX), `the recommended fix comes first: ${titles.join(' | ')}`);
    assert.ok(titles.some((t) => t.includes('LLM.int8() decomposition')), `the alternative is offered: ${titles.join(' | ')}`);
    assert.ok(titles.some((t) => t.includes(`Add to recipe: ${LAYER} → int8-channel`)), 'Add to recipe');
    assert.ok(titles.some((t) => t.includes('Apply all recommended')), 'the source action');
    assert.ok(await menu.locator('.monaco-list-row').first().locator('.codicon-lightbulb-autofix').count(), 'the recommended fix has the autofix codicon');
    await shot('findings-quick-fix-menu');
    // Arrow keys to the fix (it is first, so already focused), then Enter.
    await until(`"${FIX}" to be the focused row`, async () => {
      const focused = (await menu.locator('.monaco-list-row.focused').first().innerText().catch(() => '')).trim();
      if (focused.includes(FIX)) return true;
      await page.keyboard.press('ArrowDown');
      return undefined;
    }, 20_000);
    await page.keyboard.press('Enter');

    await page.locator('.tabs-container .tab', { hasText: `${MODEL} ↔ ${OUTPUT}` }).first().waitFor({ state: 'visible', timeout: 180_000 });
    // The model text comes from the worker, so the diff fills in a moment after the tab opens.
    await page.locator('.monaco-diff-editor .editor.modified .view-lines', { hasText: `model ${OUTPUT}` }).first().waitFor({ state: 'visible', timeout: 60_000 });
    const report = await wb.webviewShowing(`h1:has-text("${OUTPUT}")`, 60_000);
    const body = await report.locator('body').innerText();
    assert.match(body, new RegExp(`${MODEL.replace('.', '\\.')} → ${OUTPUT.replace(/[.]/g, '\\.')}`));
    assert.match(body, /relative L2/);
    assert.match(body, /α/);
    await shot('findings-fix-diff-and-report');

    // Beside the source, under the next free name; the source and the file already there are untouched.
    const files = readdirSync(workspace);
    assert.ok(files.includes(OUTPUT), `written beside the source: ${files.join(', ')}`);
    assert.equal(sha256(join(workspace, MODEL)), before_.model, 'the source is unchanged');
    assert.equal(sha256(join(workspace, TAKEN)), before_.taken, 'the file that was there is not overwritten');
  });
});
