// Edits to policy files go through agent/policy/file.ts, which splices only the changed
// scalar: comments, ordering and formatting stay exactly as the user wrote them.
import * as vscode from 'vscode';
import { setLinkState, setMode } from '../../agent/policy/fileEdit';
import type { LinkState, Mode } from '../../agent/policy/types';

export async function editLinkState(uri: vscode.Uri, id: string, state: LinkState): Promise<void> {
    await editDocument(uri, (text) => setLinkState(text, uri.fsPath, id, state));
}

export async function editMode(uri: vscode.Uri, mode: Mode): Promise<void> {
    await editDocument(uri, (text) => setMode(text, uri.fsPath, mode));
}

/** Applies `change` as the smallest edit that turns the old text into the new. */
export async function editDocument(
    uri: vscode.Uri,
    change: (text: string) => string,
): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const before = doc.getText();
    const after = change(before);
    if (after === before) return;

    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start++;
    let endBefore = before.length;
    let endAfter = after.length;
    while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
        endBefore--;
        endAfter--;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(
        uri,
        new vscode.Range(doc.positionAt(start), doc.positionAt(endBefore)),
        after.slice(start, endAfter),
    );
    if (!(await vscode.workspace.applyEdit(edit))) {
        throw new Error(`could not edit ${uri.fsPath}`);
    }
}
