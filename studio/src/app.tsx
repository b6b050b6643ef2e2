/** The Studio's shell: navigation, the page for the current path, and sign-out. */
import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { whenUnauthorized } from './api';
import { Link, useLocation } from './router';
import { Overview } from './pages/Overview';
import { PipesPage } from './pages/Pipes';
import { DatasetsPage } from './pages/Datasets';
import { DatasetPage } from './pages/Dataset';
import { GraphPage } from './pages/GraphPage';
import { SystemsPage } from './pages/Systems';
import './styles.css';

const PipePage = lazy(() => import('./pages/Pipe').then((m) => ({ default: m.PipePage })));
const ConfigPage = lazy(() => import('./pages/Config').then((m) => ({ default: m.ConfigPage })));

interface AppOptions {
  authRequired: boolean;
  signOut: () => void;
}

const SECTIONS = [
  { path: '/', label: 'Overview' },
  { path: '/pipes', label: 'Pipes' },
  { path: '/datasets', label: 'Datasets' },
  { path: '/graph', label: 'Flow graph' },
  { path: '/systems', label: 'Systems' },
  { path: '/config', label: 'Config' },
];

function Page() {
  const { segments } = useLocation();
  const [section, id] = segments;
  switch (section) {
    case undefined:
      return <Overview />;
    case 'pipes':
      return id === undefined ? <PipesPage /> : <PipePage id={id} key={id} />;
    case 'datasets':
      return id === undefined ? <DatasetsPage /> : <DatasetPage id={id} key={id} />;
    case 'graph':
      return <GraphPage />;
    case 'systems':
      return <SystemsPage focus={id} />;
    case 'config':
      return <ConfigPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at this address. <Link to="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}

function Shell({ options }: { options: AppOptions }) {
  const { segments } = useLocation();
  const current = '/' + (segments[0] ?? '');
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand">
          Sluice Studio
        </Link>
        <nav aria-label="Main">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.path}>
                <Link to={s.path} aria-current={current === s.path ? 'page' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {options.authRequired && (
          <button type="button" className="secondary" onClick={options.signOut}>
            Sign out
          </button>
        )}
      </header>
      <main className="content">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Page />
        </Suspense>
      </main>
    </div>
  );
}

export function mountApp(root: HTMLElement, options: AppOptions): void {
  whenUnauthorized(options.signOut);
  root.innerHTML = '';
  createRoot(root).render(
    <StrictMode>
      <Shell options={options} />
    </StrictMode>,
  );
}
