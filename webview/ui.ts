// The only module that knows which component set draws our controls (the VS Code webview UI
// toolkit). Everything else asks for a button or a field here, so a swap stays local.
import {
    provideVSCodeDesignSystem,
    vsCodeButton,
    vsCodeCheckbox,
    vsCodeDivider,
    vsCodeDropdown,
    vsCodeOption,
    vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeTextField(),
);

type Appearance = 'primary' | 'secondary';

// All text goes in through textContent or value: labels may carry host-chosen names.
export function button(
    label: string,
    onClick: () => void,
    options: { appearance?: Appearance; title?: string; id?: string } = {},
): HTMLElement {
    const element = document.createElement('vscode-button');
    element.textContent = label;
    element.setAttribute('appearance', options.appearance ?? 'secondary');
    if (options.title !== undefined) {
        element.title = options.title;
    }
    if (options.id !== undefined) {
        element.id = options.id;
    }
    element.addEventListener('click', () => {
        if (!element.hasAttribute('disabled')) {
            onClick();
        }
    });
    return element;
}

export function setDisabled(element: HTMLElement, disabled: boolean): void {
    element.toggleAttribute('disabled', disabled);
}

export function checkbox(
    label: string,
    checked: boolean,
    onChange: (checked: boolean) => void,
): HTMLElement {
    const element = document.createElement('vscode-checkbox') as HTMLElement & {
        checked: boolean;
    };
    element.textContent = label;
    element.checked = checked;
    element.addEventListener('change', () => onChange(element.checked));
    return element;
}

export interface Choice {
    value: string;
    label: string;
}

export function dropdown(
    choices: Choice[],
    selected: string,
    onChange: (value: string) => void,
    title?: string,
): HTMLElement & { value: string } {
    const element = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
    setChoices(element, choices, selected);
    if (title !== undefined) {
        element.title = title;
    }
    element.addEventListener('change', () => onChange(element.value));
    return element;
}

export function setChoices(element: HTMLElement, choices: Choice[], selected: string): void {
    element.replaceChildren(
        ...choices.map((choice) => {
            const option = document.createElement('vscode-option') as HTMLElement & {
                value: string;
            };
            option.textContent = choice.label;
            option.value = choice.value;
            option.toggleAttribute('selected', choice.value === selected);
            return option;
        }),
    );
    (element as HTMLElement & { value: string }).value = selected;
}

export function textField(
    placeholder: string,
    value: string,
    onInput: (value: string) => void,
): HTMLElement & { value: string } {
    const element = document.createElement('vscode-text-field') as HTMLElement & {
        value: string;
    };
    element.setAttribute('placeholder', placeholder);
    element.value = value;
    element.addEventListener('input', () => onInput(element.value));
    return element;
}

/**
 * A plain span, not the toolkit's vscode-tag: that one (FAST's badge) binds an inline style
 * attribute, which a CSP without 'unsafe-inline' refuses.
 */
export function tag(text: string, className?: string): HTMLElement {
    const element = document.createElement('span');
    element.textContent = text;
    element.className = className === undefined ? 'tag' : `tag ${className}`;
    return element;
}

export function divider(): HTMLElement {
    return document.createElement('vscode-divider');
}

/** A plain element with text; for the many labels and values that need no component. */
export function text(tagName: string, content: string, className?: string): HTMLElement {
    const element = document.createElement(tagName);
    element.textContent = content;
    if (className !== undefined) {
        element.className = className;
    }
    return element;
}
