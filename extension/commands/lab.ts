// "Palisade: Lab Up" / "Lab Down": run the lab CLI in the integrated terminal, where the
// person sees its output and can answer sudo.
import * as vscode from 'vscode';

const TERMINAL = 'Palisade Lab';

export function runLab(extensionUri: vscode.Uri, verb: 'up' | 'down'): void {
    const cli = vscode.Uri.joinPath(extensionUri, 'bin', 'palisade').fsPath;
    const terminal =
        vscode.window.terminals.find((t) => t.name === TERMINAL) ??
        vscode.window.createTerminal({ name: TERMINAL });
    terminal.show();
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    terminal.sendText(`${sudo}${shellQuote(cli)} lab ${verb}`);
}

function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
