// Drives the VS Code workbench in Chromium the way a person does: palette, clicks, reading
// what is on screen. Webviews live in nested iframes, found by what they contain.
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { THEMES, type CodeServer, type Theme } from './codeServer';

export const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
];

type Playwright = typeof import('playwright-core');

export async function loadPlaywright(): Promise<Playwright | undefined> {
    return import('playwright-core').catch(() => undefined);
}

export function chromiumMissing(): string | undefined {
    return existsSync(CHROMIUM)
        ? undefined
        : `${CHROMIUM} is not installed (apt-get install chromium)`;
}

export async function launchChromium(playwright: Playwright): Promise<Browser> {
    return playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface ViewRow {
    label: string;
    description: string;
}

export class Workbench {
    /** Dialogs (alert/confirm/prompt) the page tried to open: there must be none. */
    readonly dialogs: string[] = [];
    readonly pageErrors: string[] = [];
    private theme: Theme;

    constructor(
        readonly page: Page,
        private readonly server: CodeServer,
        theme: Theme,
    ) {
        this.theme = theme;
        page.on('dialog', (dialog) => {
            this.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
            void dialog.dismiss();
        });
        page.on('pageerror', (err) => this.pageErrors.push(err.message));
    }

    async open(): Promise<void> {
        await this.page.goto(this.server.url);
        await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await this.page.locator('.statusbar').waitFor({ timeout: 60_000 });
        await this.waitForTheme(this.theme);
    }

    /** Runs a command by its palette title, as typed by a person. */
    async runCommand(title: string): Promise<void> {
        // Keyboard shortcuts go nowhere until the workbench has focus.
        await this.page.locator('.statusbar').click({ position: { x: 5, y: 5 } });
        await this.page.keyboard.press('Control+Shift+P');
        const input = this.page.locator('.quick-input-widget input');
        await input.waitFor();
        await input.fill(`>${title}`);
        const row = this.page
            .locator('.quick-input-list .monaco-list-row')
            .filter({ hasText: title })
            .first();
        await row.waitFor({ timeout: 30_000 });
        await row.click();
    }

    /** Waits for a notification toast whose text matches, and returns its text. */
    async notification(text: RegExp, timeout = 90_000): Promise<string> {
        const toast = this.page.locator('.notification-toast').filter({ hasText: text }).first();
        await toast.waitFor({ timeout });
        return (await toast.innerText()).trim();
    }

    async statusBarTexts(): Promise<string[]> {
        return this.page.locator('.statusbar .statusbar-item').allInnerTexts();
    }

    async notificationTexts(): Promise<string[]> {
        return this.page.locator('.notification-toast').allInnerTexts();
    }

    /**
     * Opens a view container from the activity bar and returns the rows of one of its views
     * as shown: label and description, e.g. `web` and `connected · agent 0.1.0`.
     */
    async viewRows(container: string, view: string): Promise<ViewRow[]> {
        const icon = this.page.locator(`.activitybar .action-item a[aria-label^="${container}"]`);
        await icon.first().waitFor({ timeout: 30_000 });
        const pane = this.page.locator('.pane').filter({
            has: this.page.locator('.pane-header', { hasText: view }),
        });
        if (!(await pane.first().isVisible())) {
            await icon.first().click();
        }
        const rows = pane.first().locator('.monaco-list-row');
        await rows.first().waitFor({ timeout: 30_000 });
        const shown: ViewRow[] = [];
        for (const row of await rows.all()) {
            shown.push({
                label: (await row.locator('.label-name').innerText()).trim(),
                description: (await row.locator('.label-description').innerText()).trim(),
            });
        }
        return shown;
    }

    /** Opens a workspace file through Quick Open, as a person does. */
    async openFile(name: string): Promise<void> {
        await this.page.locator('.statusbar').click({ position: { x: 5, y: 5 } });
        await this.page.keyboard.press('Control+P');
        const input = this.page.locator('.quick-input-widget input');
        await input.waitFor();
        await input.fill(name);
        await this.page
            .locator('.quick-input-list .monaco-list-row')
            .filter({ hasText: name })
            .first()
            .waitFor();
        await this.page.keyboard.press('Enter');
        await this.page.locator(`.tab.active[aria-label^="${name}"]`).waitFor();
    }

    /** The CodeLens rows of the open editor, top to bottom, each as its links' texts. */
    async codeLenses(): Promise<string[][]> {
        const rows = this.page.locator('.editor-instance .codelens-decoration');
        const shown: Array<{ y: number; links: string[] }> = [];
        for (const row of await rows.all()) {
            const box = await row.boundingBox();
            const links = (await row.locator('a, span').allInnerTexts())
                .map((t) => t.trim())
                .filter((t) => t !== '' && t !== '|');
            shown.push({ y: box?.y ?? 0, links });
        }
        return shown.sort((a, b) => a.y - b.y).map((r) => r.links);
    }

    /** Clicks the CodeLens link `text` in the `index`-th lens row (top to bottom). */
    async clickLens(index: number, text: string): Promise<void> {
        const rows = await this.page.locator('.editor-instance .codelens-decoration').all();
        const ordered: Array<{ y: number; row: (typeof rows)[number] }> = [];
        for (const row of rows) ordered.push({ y: (await row.boundingBox())?.y ?? 0, row });
        ordered.sort((a, b) => a.y - b.y);
        const row = ordered[index]?.row;
        if (row === undefined) throw new Error(`no CodeLens row ${index}`);
        await row.locator('a', { hasText: text }).first().click();
    }

    /**
     * Clicks where an element of a live page is: the element may be rebuilt between finding
     * and clicking (graph updates), and a person's click lands on whatever is there then.
     */
    async clickAt(locator: import('playwright-core').Locator, timeout = 10_000): Promise<void> {
        const deadline = Date.now() + timeout;
        for (;;) {
            await locator.first().waitFor({ timeout: Math.max(deadline - Date.now(), 1) });
            const box = await locator.first().boundingBox();
            if (box !== null) {
                await this.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
                return;
            }
            if (Date.now() > deadline) throw new Error(`${locator} is not on screen`);
            await this.page.waitForTimeout(100);
        }
    }

    /** The innermost frame of a webview whose document has `selector`. */
    async webviewFrame(selector: string, timeout = 60_000): Promise<Frame> {
        const deadline = Date.now() + timeout;
        while (Date.now() < deadline) {
            for (const frame of this.page.frames()) {
                if (frame === this.page.mainFrame()) continue;
                const found = await frame.$(selector).catch(() => null);
                if (found !== null) return frame;
            }
            await this.page.waitForTimeout(250);
        }
        throw new Error(`no webview frame with ${selector} within ${timeout} ms`);
    }

    /** Switches the colour theme from the palette, as a person does. */
    async setTheme(theme: Theme): Promise<void> {
        await this.runCommand('Preferences: Color Theme');
        const input = this.page.locator('.quick-input-widget input');
        // The picker lists themes by their label: "Dark Modern", not "Default Dark Modern".
        const label = THEMES[theme].replace(/^Default /, '');
        await input.fill(label);
        await this.page
            .locator('.quick-input-list .monaco-list-row')
            .filter({ hasText: new RegExp(`^${label}`) })
            .first()
            .waitFor();
        await this.page.keyboard.press('Enter');
        this.theme = theme;
        await this.waitForTheme(theme);
    }

    private async waitForTheme(theme: Theme): Promise<void> {
        const cls = theme === 'dark' ? 'vs-dark' : 'vs';
        await this.page.waitForFunction(
            (c) => document.querySelector('.monaco-workbench')?.classList.contains(c) === true,
            cls,
            { timeout: 30_000 },
        );
    }

    /** Saves the screen as `<dir>/<theme>/<name>.png` in the current theme only. */
    async screenshot(dir: string, name: string): Promise<string> {
        const file = path.join(dir, this.theme, `${name}.png`);
        mkdirSync(path.dirname(file), { recursive: true });
        await this.page.screenshot({ path: file });
        return file;
    }

    /**
     * Saves the screen as `<dir>/<theme>/<name>.png` in both themes, the current one first,
     * and leaves the workbench in the theme it was in.
     */
    async screenshots(dir: string, name: string): Promise<string[]> {
        const first = this.theme;
        const other: Theme = first === 'dark' ? 'light' : 'dark';
        const saved: string[] = [];
        for (const theme of [first, other, first]) {
            if (theme !== this.theme) {
                await this.setTheme(theme);
                // Webviews restyle on the next frame after the workbench does.
                await this.page.waitForTimeout(500);
            }
            if (saved.length < 2) {
                const file = path.join(dir, theme, `${name}.png`);
                mkdirSync(path.dirname(file), { recursive: true });
                await this.page.screenshot({ path: file });
                saved.push(file);
            }
        }
        return saved;
    }
}
