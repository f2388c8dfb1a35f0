// Serves the built webview bundle under its real CSP with a stand-in for the VS Code API, and
// opens it in headless Chromium. Shared by the webview benchmark and screenshot scripts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { newNonce, webviewHtml } from '../../extension/webviewHtml';
import type { SavedState } from '../../webview/vscodeApi';

export const CHROMIUM = '/usr/bin/chromium';

// Init scripts run outside the page's CSP: they play the part of VS Code's webview host.
export const FAKE_VSCODE_API = `
    window.__posted = []; window.__state = undefined; window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
        window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__posted.push(m),
        getState: () => window.__state,
        setState: (s) => { window.__state = s; },
    });
`;

/** A few of the variables VS Code sets on a webview's <html>, for each theme kind. */
export const THEMES: Record<'dark' | 'light', Record<string, string>> = {
    dark: {
        '--vscode-foreground': '#cccccc',
        '--vscode-editor-foreground': '#d4d4d4',
        '--vscode-editor-background': '#1e1e1e',
        '--vscode-descriptionForeground': '#9d9d9d',
        '--vscode-editorWidget-background': '#252526',
        '--vscode-editorWidget-border': '#454545',
        '--vscode-panel-border': '#80808059',
        '--vscode-charts-blue': '#3794ff',
        '--vscode-charts-purple': '#b180d7',
        '--vscode-charts-yellow': '#cca700',
        '--vscode-testing-iconPassed': '#73c991',
        '--vscode-editorWarning-foreground': '#cca700',
        '--vscode-errorForeground': '#f48771',
        '--vscode-focusBorder': '#007fd4',
        '--vscode-font-family': 'sans-serif',
        '--vscode-font-size': '13px',
        '--vscode-button-background': '#0e639c',
        '--vscode-button-foreground': '#ffffff',
        '--vscode-button-secondaryBackground': '#3a3d41',
        '--vscode-button-secondaryForeground': '#ffffff',
        '--vscode-dropdown-background': '#3c3c3c',
        '--vscode-dropdown-foreground': '#f0f0f0',
        '--vscode-dropdown-border': '#3c3c3c',
        '--vscode-input-background': '#3c3c3c',
        '--vscode-input-foreground': '#cccccc',
        '--vscode-checkbox-background': '#3c3c3c',
        '--vscode-checkbox-foreground': '#f0f0f0',
        '--vscode-checkbox-border': '#3c3c3c',
        '--vscode-badge-background': '#4d4d4d',
        '--vscode-badge-foreground': '#ffffff',
    },
    light: {
        '--vscode-foreground': '#616161',
        '--vscode-editor-foreground': '#000000',
        '--vscode-editor-background': '#ffffff',
        '--vscode-descriptionForeground': '#717171',
        '--vscode-editorWidget-background': '#f3f3f3',
        '--vscode-editorWidget-border': '#c8c8c8',
        '--vscode-panel-border': '#80808059',
        '--vscode-charts-blue': '#1a85ff',
        '--vscode-charts-purple': '#652d90',
        '--vscode-charts-yellow': '#bf8803',
        '--vscode-testing-iconPassed': '#388a34',
        '--vscode-editorWarning-foreground': '#bf8803',
        '--vscode-errorForeground': '#a1260d',
        '--vscode-focusBorder': '#0090f1',
        '--vscode-font-family': 'sans-serif',
        '--vscode-font-size': '13px',
        '--vscode-button-background': '#007acc',
        '--vscode-button-foreground': '#ffffff',
        '--vscode-button-secondaryBackground': '#5f6a79',
        '--vscode-button-secondaryForeground': '#ffffff',
        '--vscode-dropdown-background': '#ffffff',
        '--vscode-dropdown-foreground': '#616161',
        '--vscode-dropdown-border': '#cecece',
        '--vscode-input-background': '#ffffff',
        '--vscode-input-foreground': '#616161',
        '--vscode-checkbox-background': '#ffffff',
        '--vscode-checkbox-foreground': '#616161',
        '--vscode-checkbox-border': '#919191',
        '--vscode-badge-background': '#c4c4c4',
        '--vscode-badge-foreground': '#333333',
    },
};

export function themeScript(theme: 'dark' | 'light'): string {
    const vars = JSON.stringify(THEMES[theme]);
    return `document.addEventListener('DOMContentLoaded', () => {
        for (const [k, v] of Object.entries(${vars})) document.documentElement.style.setProperty(k, v);
        document.body.classList.add('vscode-${theme}');
    });`;
}

export function missingBrowser(): string | undefined {
    return existsSync(CHROMIUM)
        ? undefined
        : `${CHROMIUM} is not installed (apt-get install chromium)`;
}

export interface OpenOptions {
    theme?: 'dark' | 'light';
    width?: number;
    height?: number;
    /** What vscode.getState() answers, as after a reload. */
    state?: SavedState;
}

export interface Harness {
    origin: string;
    browser: Browser;
    open(options?: OpenOptions): Promise<Page>;
    close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'palisade-webview-'));
    await build({
        entryPoints: ['webview/main.ts'],
        bundle: true,
        format: 'iife',
        target: 'es2022',
        outfile: join(dir, 'webview.js'),
        logLevel: 'silent',
    });
    let origin = '';
    const server: Server = createServer((req, res) => {
        if (req.url === '/webview.js') {
            res.setHeader('content-type', 'text/javascript');
            res.end(readFileSync(join(dir, 'webview.js')));
            return;
        }
        res.setHeader('content-type', 'text/html');
        res.end(
            webviewHtml({
                cspSource: origin,
                nonce: newNonce(),
                scriptUri: `${origin}/webview.js`,
            }),
        );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    return {
        origin,
        browser,
        open: async (options = {}) => {
            const page = await browser.newPage({
                viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
            });
            await page.addInitScript(FAKE_VSCODE_API);
            await page.addInitScript(themeScript(options.theme ?? 'dark'));
            if (options.state !== undefined) {
                await page.addInitScript((state) => {
                    (window as any).__state = state;
                }, options.state);
            }
            await page.goto(origin);
            await page.waitForFunction(() => (window as any).__posted.length > 0);
            return page;
        },
        close: async () => {
            await browser.close();
            server.close();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
