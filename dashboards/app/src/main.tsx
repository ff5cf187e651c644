/** Entry: sign-in, then the header, the view tabs and the current view. */
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { getToken, takeTokenFromUrl } from './api.js';
import { signOut, start, streamStats } from './live.js';
import { canReadFloor, exceptions, holds, me, navigate, parseHash, route, toasts, VIEWS, type ViewName } from './state.js';
import { Header } from './views/header.js';
import { SignIn } from './views/sign-in.js';
import { FloorView } from './views/floor-view.js';
import { OrdersView } from './views/orders-view.js';
import { ExceptionsView } from './views/exceptions-view.js';
import { DevicesView } from './views/devices-view.js';
import { InventoryView } from './views/inventory-view.js';
import './style.css';

function Tabs() {
  const current = route.value.view;
  const floor = canReadFloor.value;
  const queue = exceptions.value.length + holds.value.length;
  const visible = VIEWS.filter((v) => floor || v.id === 'orders');
  const onKey = (e: KeyboardEvent, i: number) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = visible[(i + step + visible.length) % visible.length];
    if (!next) return;
    navigate(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return (
    <nav class="tabs" role="tablist" aria-label="Views">
      {visible.map((v, i) => (
        <button
          key={v.id}
          id={`tab-${v.id}`}
          role="tab"
          type="button"
          aria-selected={current === v.id}
          aria-controls="view"
          tabIndex={current === v.id ? 0 : -1}
          class={current === v.id ? 'tab active' : 'tab'}
          onClick={() => navigate(v.id)}
          onKeyDown={(e) => onKey(e, i)}
          title={`${v.label} (Alt+${v.key})`}
        >
          {v.label}
          {v.id === 'exceptions' && queue > 0 ? <span class="count">{queue}</span> : null}
        </button>
      ))}
    </nav>
  );
}

function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : undefined}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

function CurrentView({ view }: { view: ViewName }) {
  if (!canReadFloor.value && view !== 'orders') return <OrdersView />;
  switch (view) {
    case 'orders':
      return <OrdersView />;
    case 'exceptions':
      return <ExceptionsView />;
    case 'devices':
      return <DevicesView />;
    case 'inventory':
      return <InventoryView />;
    default:
      return <FloorView />;
  }
}

function App() {
  useEffect(() => {
    const onHash = () => (route.value = parseHash(location.hash));
    const onKey = (e: KeyboardEvent) => {
      // Alt+1..5 switch views from anywhere, also from inside a text field.
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const v = VIEWS.find((x) => x.key === e.key);
      if (!v) return;
      e.preventDefault();
      navigate(v.id);
    };
    window.addEventListener('popstate', onHash);
    window.addEventListener('hashchange', onHash);
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('popstate', onHash);
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('keydown', onKey);
    };
  }, []);
  if (!me.value) return <SignIn />;
  return (
    <div class="shell">
      <a class="skip" href="#view">
        Skip to content
      </a>
      <Header />
      <Tabs />
      <main id="view" class="view" aria-labelledby={`tab-${route.value.view}`} tabIndex={-1}>
        <CurrentView view={route.value.view} />
      </main>
      <Toasts />
    </div>
  );
}

declare global {
  interface Window {
    /** For browser tests and the benchmark: stream and map statistics. */
    pickwire?: Record<string, unknown>;
  }
}

takeTokenFromUrl();
window.pickwire = { ...window.pickwire, streamStats, signOut };
const root = document.getElementById('root');
if (root) render(<App />, root);
if (getToken()) void start();
