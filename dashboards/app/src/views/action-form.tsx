/** A button that opens a small inline form for a note or reason, then runs the action. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { toast } from '../state.js';

export interface ActionFormProps {
  label: string;
  /** Label of the note or reason field. */
  field: string;
  required?: boolean;
  confirmLabel?: string;
  danger?: boolean;
  id?: string;
  run(text: string): Promise<string>;
}

export function ActionForm(p: ActionFormProps) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const fieldId = useRef(`f-${p.id ?? 'action'}-${Math.random().toString(36).slice(2, 8)}`).current;
  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);
  const cls = `btn ${p.danger ? 'btn-danger' : 'btn-primary'}`;
  if (!open) {
    return (
      <button type="button" class={cls} data-action={p.id} onClick={() => setOpen(true)}>
        {p.label}…
      </button>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    if (p.required && !text.trim()) return;
    setBusy(true);
    try {
      toast('ok', await p.run(text.trim()));
      setOpen(false);
      setText('');
    } catch (err) {
      toast('error', `${p.label}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="action-form" onSubmit={(e) => void submit(e)} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <label for={fieldId}>
        {p.field}
        {p.required ? '' : ' (optional)'}
      </label>
      <textarea id={fieldId} ref={input} rows={2} value={text} required={p.required} maxLength={500} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <div class="row">
        <button type="submit" class={cls} data-confirm={p.id} disabled={busy || (p.required === true && !text.trim())}>
          {busy ? '…' : (p.confirmLabel ?? p.label)}
        </button>
        <button type="button" class="btn btn-quiet" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
