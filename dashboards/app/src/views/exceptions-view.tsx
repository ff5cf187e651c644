/**
 * What needs a human: open exceptions and open holds in one queue, oldest first, each with the
 * actions that fit it (resolve with a note; release or reject a hold; cancel the order behind it;
 * retry a task elsewhere, or give a vehicle's trip to another vehicle).
 */
import { api, enc } from '../api.js';
import { loadExceptions, loadHolds } from '../live.js';
import { relative, time } from '../format.js';
import { canActOnFloor, canCancelOrders, devices, exceptions, holds, navigate, tasks, tasksVersion } from '../state.js';
import type { Hold, PwException } from '../types.js';
import { ActionForm } from './action-form.js';

type Item = { kind: 'exception'; at: string; x: PwException } | { kind: 'hold'; at: string; h: Hold };

/** Types that stop work until someone acts, shown first among equals and marked. */
const URGENT = new Set(['attempts-exhausted', 'device-unreachable', 'conveyor-jam', 'task-timeout', 'fraud']);

export function queueItems(): Item[] {
  const items: Item[] = [
    ...exceptions.value.filter((x) => x.status === 'open').map((x): Item => ({ kind: 'exception', at: x.createdAt, x })),
    ...holds.value.filter((h) => h.status === 'open').map((h): Item => ({ kind: 'hold', at: h.createdAt, h })),
  ];
  return items.sort((a, b) => a.at.localeCompare(b.at));
}

/** Gives a vehicle's trip to another vehicle (the core refuses once goods are on board). */
export async function reassignTask(taskId: string, reason: string): Promise<string> {
  await api(`/tasks/${enc(taskId)}/reassign`, { method: 'POST', body: { reason } });
  return `Task ${taskId} goes to another vehicle.`;
}

/** Stops a device task; the core sends its line back to sourcing, so the work is retried elsewhere. */
export async function cancelTask(taskId: string, reason: string): Promise<string> {
  await api(`/tasks/${enc(taskId)}/cancel`, { method: 'POST', body: { reason } });
  return `Task ${taskId} canceled: its line is sourced again`;
}

export async function cancelOrder(orderId: string, reason: string): Promise<string> {
  await api(`/orders/${enc(orderId)}/cancel`, { method: 'POST', body: { reason } });
  return `Order ${orderId} canceled`;
}

function ExceptionCard({ x }: { x: PwException }) {
  const act = canActOnFloor.value;
  void tasksVersion.value;
  const taskActive = x.taskId !== null && tasks.has(x.taskId);
  const resolve = async (note: string) => {
    await api(`/exceptions/${enc(x.id)}/resolve`, { method: 'POST', body: { note } });
    exceptions.value = exceptions.value.filter((e) => e.id !== x.id);
    void loadExceptions();
    return `Exception ${x.id} resolved`;
  };
  return (
    <li class={`queue-item ${URGENT.has(x.type) ? 'urgent' : ''}`} data-exception={x.id}>
      <div class="qi-head">
        <span class="badge tone-warn">{x.type}</span>
        <strong>{x.id}</strong>
        <span class="muted" title={x.createdAt}>
          {time(x.createdAt)} · {relative(x.createdAt)}
        </span>
      </div>
      <p>{x.summary}</p>
      {x.actions.length > 0 ? (
        <details>
          <summary>What the core did ({x.actions.length})</summary>
          <ul class="small">
            {x.actions.map((a, i) => (
              <li key={i}>
                {time(a.at)} {a.by}: {a.action}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <div class="actions">
        {x.orderId ? (
          <button type="button" class="btn btn-quiet" onClick={() => navigate('orders', x.orderId ?? undefined)}>
            Order {x.orderId}
          </button>
        ) : null}
        {x.deviceId ? (
          <button type="button" class="btn btn-quiet" onClick={() => navigate('devices', x.deviceId ?? undefined)}>
            Device {x.deviceId}
          </button>
        ) : null}
        {act ? <ActionForm id="resolve" label="Resolve" field="Note" required confirmLabel="Resolve" run={resolve} /> : null}
        {act && taskActive ? <ActionForm id="cancel-task" label="Retry elsewhere" field="Reason" required confirmLabel="Cancel the task and re-source" run={(r) => cancelTask(x.taskId ?? '', r)} /> : null}
        {act && taskActive && x.deviceId && devices.get(x.deviceId)?.class === 'amr' ? (
          <ActionForm id="reassign-task" label="Reassign" field="Reason" required confirmLabel="Give the trip to another vehicle" run={(r) => reassignTask(x.taskId ?? '', r)} />
        ) : null}
        {x.orderId && canCancelOrders.value ? <ActionForm id="cancel-order" label="Cancel order" field="Reason" required danger run={(r) => cancelOrder(x.orderId ?? '', r)} /> : null}
      </div>
    </li>
  );
}

function HoldCard({ h }: { h: Hold }) {
  const act = canActOnFloor.value;
  const release = async (note: string) => {
    await api(`/holds/${enc(h.id)}/release`, { method: 'POST', body: note ? { note } : {} });
    holds.value = holds.value.filter((x) => x.id !== h.id);
    void loadHolds();
    return `Hold ${h.id} released: order ${h.orderId} goes to the floor`;
  };
  const reject = async (reason: string) => {
    await api(`/holds/${enc(h.id)}/reject`, { method: 'POST', body: { reason } });
    holds.value = holds.value.filter((x) => x.id !== h.id);
    void loadHolds();
    return `Hold ${h.id} rejected: order ${h.orderId} canceled`;
  };
  return (
    <li class={`queue-item ${URGENT.has(h.type) ? 'urgent' : ''}`} data-hold={h.id} data-order={h.orderId}>
      <div class="qi-head">
        <span class="badge tone-bad">{h.type} hold</span>
        <strong>{h.orderId}</strong>
        <span class="muted" title={h.createdAt}>
          {time(h.createdAt)} · {relative(h.createdAt)}
        </span>
      </div>
      <p>
        {h.reason}
        {h.score !== null ? <span class="muted"> (risk score {h.score})</span> : null}
      </p>
      <div class="actions">
        <button type="button" class="btn btn-quiet" onClick={() => navigate('orders', h.orderId)}>
          Order {h.orderId}
        </button>
        {act ? <ActionForm id="release-hold" label="Release" field="Note" confirmLabel="Release" run={release} /> : null}
        {act ? <ActionForm id="reject-hold" label="Reject" field="Reason" required danger confirmLabel="Reject and cancel the order" run={reject} /> : null}
      </div>
    </li>
  );
}

export function ExceptionsView() {
  const items = queueItems();
  return (
    <section class="panel queue" aria-labelledby="queue-title">
      <header class="panel-head">
        <h2 id="queue-title">
          Needs a human <span class="muted">({items.length}, oldest first)</span>
        </h2>
        <button type="button" class="btn btn-quiet" onClick={() => void Promise.all([loadExceptions(), loadHolds()])}>
          Refresh
        </button>
      </header>
      {!canActOnFloor.value ? <p class="muted small">Your role can only watch; actions are for operators.</p> : null}
      {items.length === 0 ? <p class="muted">Nothing open. The floor handles itself.</p> : null}
      <ol class="queue-list">{items.map((i) => (i.kind === 'hold' ? <HoldCard key={`h-${i.h.id}`} h={i.h} /> : <ExceptionCard key={`x-${i.x.id}`} x={i.x} />))}</ol>
    </section>
  );
}

/** The queue at a glance for the wall screen: the oldest few, each linking to the queue. */
export function QueueSummary() {
  const items = queueItems();
  return (
    <section class="panel queue-summary" aria-label="Open exceptions and holds">
      <h2>
        Needs a human <span class="muted">({items.length})</span>
      </h2>
      <ol class="queue-list compact">
        {items.slice(0, 12).map((i) => (
          <li key={i.kind === 'hold' ? i.h.id : i.x.id} class="queue-item">
            <button type="button" class="link" onClick={() => navigate('exceptions')}>
              <span class={`badge ${i.kind === 'hold' ? 'tone-bad' : 'tone-warn'}`}>{i.kind === 'hold' ? `${i.h.type} hold` : i.x.type}</span> {i.kind === 'hold' ? i.h.orderId : i.x.summary}
            </button>
            <span class="muted small"> {relative(i.at)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
