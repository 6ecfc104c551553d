// Driving the code-server workbench through playwright-core for the end-to-end tests: waits on
// states of the page (never fixed delays), the command palette with retries, QuickPicks, and the
// webviews' nested frames. The same steps editor.e2e.test.mjs takes, for tests in other files.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns something truthy, or throws after `timeout` ms naming `what`.
 * A loaded machine only makes the polls take longer.
 */
export async function until(what, probe, timeout = 30_000) {
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

/** The workbench steps on one page: palette commands, QuickPicks, webviews. */
export function workbenchDriver(page) {
  const quickInput = () => page.locator('.quick-input-widget');
  const quickInputBox = () => page.locator('.quick-input-widget .quick-input-box input');

  /** Closes any open QuickPick or menu and waits until it is gone. */
  async function closeQuickInput() {
    for (let i = 0; i < 5 && (await quickInput().isVisible().catch(() => false)); i++) {
      await page.keyboard.press('Escape');
      await quickInput().waitFor({ state: 'hidden', timeout: 2_000 }).catch(() => undefined);
    }
  }

  /** Types `text` into the open QuickPick until the input holds it: a busy workbench drops keys. */
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

  /** Runs a palette command, retried until `timeout`: the extension's commands arrive late, and keys get dropped under load. */
  async function runCommand(title, timeout = 120_000) {
    const deadline = Date.now() + timeout;
    for (let attempt = 0; ; attempt++) {
      try {
        await closeQuickInput();
        // Keyboard focus may be inside a webview, which keeps some keys; the status bar gives it back.
        await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 }, timeout: 10_000 });
        await page.keyboard.press(attempt % 2 ? 'Control+Shift+P' : 'F1');
        await typeIntoQuickInput(`>${title}`);
        const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: title }) }).first();
        await row.waitFor({ state: 'visible', timeout: 10_000 });
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
    if (await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: text }).first().isVisible()) await page.keyboard.press('Enter');
    else await row.click();
  }

  /** The webview whose page shows `selector`; every webview is an overlay iframe, found by its content. */
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

  /** Opens `file` through the palette and waits until its editor is active and its page shows the model. */
  async function openModel(file, ready = 'h1') {
    await runCommand('Quantscope: Open Model…');
    await pick(file);
    await page.locator(`.tabs-container .tab.active[data-resource-name="${file}"]`).first().waitFor({ state: 'visible', timeout: 60_000 });
    return webviewShowing(`${ready}:has-text("${file}")`, 90_000);
  }

  return { closeQuickInput, typeIntoQuickInput, runCommand, pick, webviewShowing, openModel };
}
