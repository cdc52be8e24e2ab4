// Global confirmation and single-field prompt dialogs, awaited by the screens.

import type { MessageKey } from '../lib/i18n.js';

export interface ConfirmRequest {
  title: string;
  text: string;
  confirmLabel: string;
  danger: boolean;
  /** When set, the user must type this exact text to confirm. */
  typeToConfirm?: string;
  resolve: (ok: boolean) => void;
}
export interface PromptRequest {
  title: string;
  label: string;
  value: string;
  confirmLabel: string;
  validate: (v: string) => MessageKey | null;
  resolve: (v: string | null) => void;
}

export const dialogs = $state<{ confirm: ConfirmRequest | null; prompt: PromptRequest | null }>({ confirm: null, prompt: null });

export function confirmDialog(opts: { title: string; text: string; confirmLabel?: string; danger?: boolean; typeToConfirm?: string }): Promise<boolean> {
  return new Promise((resolve) => {
    dialogs.confirm = {
      title: opts.title,
      text: opts.text,
      confirmLabel: opts.confirmLabel ?? 'OK',
      danger: opts.danger ?? false,
      typeToConfirm: opts.typeToConfirm,
      resolve: (ok) => {
        dialogs.confirm = null;
        resolve(ok);
      },
    };
  });
}

export function promptDialog(opts: {
  title: string;
  label: string;
  value?: string;
  confirmLabel?: string;
  validate?: (v: string) => MessageKey | null;
}): Promise<string | null> {
  return new Promise((resolve) => {
    dialogs.prompt = {
      title: opts.title,
      label: opts.label,
      value: opts.value ?? '',
      confirmLabel: opts.confirmLabel ?? 'Save',
      validate: opts.validate ?? (() => null),
      resolve: (v) => {
        dialogs.prompt = null;
        resolve(v);
      },
    };
  });
}
