/** Token sign-in. `npm start` prints a link with the token in its fragment, which skips this. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { setToken } from '../api.js';
import { start } from '../live.js';
import { signInMessage } from '../state.js';

export function SignIn() {
  const [token, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setToken(t);
    setValue('');
    await start();
    setBusy(false);
  };
  return (
    <main class="sign-in">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Pickwire</h1>
        <p>Sign in with an API token. <code>npm start</code> prints a link that signs you in directly.</p>
        <label for="token-input">Token</label>
        <input id="token-input" ref={input} type="password" autoComplete="off" value={token} onInput={(e) => setValue((e.target as HTMLInputElement).value)} required />
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="error" role="alert">
          {signInMessage.value}
        </p>
      </form>
    </main>
  );
}
