/**
 * The public entry of the Studio: asks the API whether it needs a token and, when it does and the
 * stored one is missing or refused, shows the sign-in form. Only this file and its stylesheet are
 * served without a token; the app itself is loaded after sign-in.
 */
import './boot.css';
import { request, setToken, storedToken } from './api';

async function tokenAccepted(token: string | null): Promise<boolean | 'unreachable'> {
  try {
    const res = await request('GET', '/', { token });
    if (res.status === 401) return false;
    return res.ok ? true : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

async function startApp(root: HTMLElement, authRequired: boolean): Promise<void> {
  const { mountApp } = await import('./app');
  mountApp(root, {
    authRequired,
    signOut: () => {
      setToken(null);
      window.location.assign('/');
    },
  });
}

function signInForm(root: HTMLElement, message: string): void {
  root.innerHTML = '';
  const main = document.createElement('main');
  main.className = 'sign-in';
  main.innerHTML = `
    <h1>Sluice Studio</h1>
    <p>This runtime requires a token. Paste a JWT signed with the runtime's secret.</p>
    <form>
      <label for="token">Token (JWT)</label>
      <textarea id="token" name="token" rows="5" spellcheck="false" autocomplete="off" required></textarea>
      <p class="sign-in-error" role="alert"></p>
      <button type="submit">Sign in</button>
    </form>`;
  root.append(main);
  const form = main.querySelector('form')!;
  const error = main.querySelector<HTMLElement>('.sign-in-error')!;
  error.textContent = message;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = (main.querySelector('textarea')!.value || '').trim();
    const ok = await tokenAccepted(token);
    if (ok === true) {
      setToken(token);
      await startApp(root, true);
    } else error.textContent = ok === false ? 'The runtime refused this token.' : 'The runtime does not answer.';
  });
}

async function boot(): Promise<void> {
  const root = document.getElementById('root')!;
  const open = await tokenAccepted(null);
  if (open === true) return startApp(root, false);
  const stored = storedToken();
  if (stored && (await tokenAccepted(stored)) === true) {
    setToken(stored);
    return startApp(root, true);
  }
  if (stored) setToken(null);
  signInForm(root, open === 'unreachable' ? 'The runtime does not answer.' : stored ? 'Your token was refused; sign in again.' : '');
}

void boot();
