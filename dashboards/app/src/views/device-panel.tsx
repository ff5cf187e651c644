/** One device: what it is doing, and the commands an operator may send it. */
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { battery, dateTime, tone } from '../format.js';
import { canActOnFloor, devices, devicesVersion, selectedDevice, toast } from '../state.js';
import type { Device } from '../types.js';
import { ActionForm } from './action-form.js';
import { cancelTask } from './exceptions-view.js';

type Command = 'pause' | 'resume' | 'charge' | 'out-of-service' | 'in-service';

const LABELS: Record<Command, string> = {
  pause: 'Pause',
  resume: 'Resume',
  charge: 'Send to charge',
  'out-of-service': 'Out of service',
  'in-service': 'Back in service',
};

/** The commands that make sense for the device now; the server still decides. */
export function commandsFor(d: Device): Command[] {
  const out: Command[] = [];
  if (d.state === 'paused') out.push('resume');
  else if (d.state !== 'out-of-service') out.push('pause');
  if (d.class === 'amr' && !d.charging && !d.task && d.state !== 'out-of-service') out.push('charge');
  out.push(d.state === 'out-of-service' ? 'in-service' : 'out-of-service');
  return out;
}

export function DevicePanel({ id, onClose }: { id: string; onClose?: () => void }) {
  void devicesVersion.value;
  const d = devices.get(id);
  const [busy, setBusy] = useState<Command | null>(null);
  if (!d) {
    return (
      <section class="panel device-panel" aria-label={`Device ${id}`}>
        <p class="muted">No device {id}.</p>
      </section>
    );
  }
  const send = async (type: Command) => {
    setBusy(type);
    try {
      const res = await api<{ device: Device; command: { type: string; sent: boolean } }>(`/devices/${enc(d.id)}/commands`, { method: 'POST', body: { type } });
      devices.set(d.id, { ...d, ...res.device });
      devicesVersion.value++;
      toast('ok', `${LABELS[type]}: ${res.command.sent ? 'sent to' : 'recorded for'} ${d.id}`);
    } catch (err) {
      toast('error', `${LABELS[type]} ${d.id}: ${(err as Error).message}`);
    } finally {
      setBusy(null);
    }
  };
  const rows: [string, string][] = [
    ['Class', d.class],
    ['Connection', d.connection ?? '–'],
    ['Battery', `${battery(d.battery)}${d.charging ? ' (charging)' : ''}`],
    ['Position', d.position ? `${d.position.x.toFixed(1)}, ${d.position.y.toFixed(1)} m · ${Math.round((d.position.theta * 180) / Math.PI)}°` : '–'],
    ['Last node', d.lastNodeId ?? '–'],
    ['Task', d.task ?? '–'],
    ['Last seen', dateTime(d.lastSeenAt ?? null)],
  ];
  return (
    <section class="panel device-panel" aria-labelledby="device-title" data-device={d.id}>
      <header class="panel-head">
        <h2 id="device-title">
          {d.id} <span class={`state tone-${tone(d.state)}`} data-testid="device-state">{d.state}</span>
        </h2>
        {onClose ? (
          <button type="button" class="btn btn-quiet" onClick={onClose} aria-label="Close device panel">
            ✕
          </button>
        ) : null}
      </header>
      <dl class="facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {d.errors && d.errors.length > 0 ? (
        <ul class="errors" aria-label="Device errors">
          {d.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      ) : null}
      {canActOnFloor.value ? (
        <div class="actions" role="group" aria-label="Commands">
          {commandsFor(d).map((c) => (
            <button key={c} type="button" class={`btn ${c === 'pause' || c === 'out-of-service' ? 'btn-warn' : 'btn-primary'}`} data-command={c} disabled={busy !== null} onClick={() => void send(c)}>
              {busy === c ? '…' : LABELS[c]}
            </button>
          ))}
        </div>
      ) : (
        <p class="muted small">Your role can only watch; commands are for operators.</p>
      )}
      {canActOnFloor.value && d.task ? (
        <div class="actions">
          <ActionForm id="cancel-task" label={`Cancel task ${d.task}`} field="Reason" required danger confirmLabel="Cancel the task and re-source" run={(r) => cancelTask(d.task ?? '', r)} />
        </div>
      ) : null}
    </section>
  );
}

export function closeDevicePanel(): void {
  selectedDevice.value = null;
}
