import { lazy, Suspense, type ReactNode } from "react";
import { createBrowserRouter, Navigate, Route, RouterProvider, Routes, useLocation } from "react-router-dom";
import { Layout, Loading } from "./components/Layout";
import { AuthProvider, useAuth } from "./lib/auth";
import { AuthPage } from "./pages/Login";

// Every page is its own chunk; the chart libraries load only with the pages that draw.
const Dashboard = lazy(() => import("./pages/Dashboard"));
const Runs = lazy(() => import("./pages/Runs"));
const RunDetail = lazy(() => import("./pages/RunDetail"));
const Compare = lazy(() => import("./pages/Compare"));
const Trades = lazy(() => import("./pages/Trades"));
const TradeDetail = lazy(() => import("./pages/TradeDetail"));
const Executions = lazy(() => import("./pages/Executions"));
const Rejected = lazy(() => import("./pages/Rejected"));
const Regimes = lazy(() => import("./pages/Regimes"));
const Training = lazy(() => import("./pages/Training"));
const Backtests = lazy(() => import("./pages/Backtests"));
const Settings = lazy(() => import("./pages/Settings"));
const Instruments = lazy(() => import("./pages/Instruments"));
const Playbooks = lazy(() => import("./pages/Playbooks"));
const Journal = lazy(() => import("./pages/Journal"));
const Import = lazy(() => import("./pages/Import"));

function RequireAuth({ children }: { children: ReactNode }) {
  const { user, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading />;
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<AuthPage mode="login" />} />
      <Route path="/register" element={<AuthPage mode="register" />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<Page><Dashboard /></Page>} />
        <Route path="runs" element={<Page><Runs /></Page>} />
        <Route path="runs/:runId" element={<Page><RunDetail /></Page>} />
        <Route path="compare" element={<Page><Compare /></Page>} />
        <Route path="trades" element={<Page><Trades /></Page>} />
        <Route path="trades/:tradeId" element={<Page><TradeDetail /></Page>} />
        <Route path="executions" element={<Page><Executions /></Page>} />
        <Route path="rejected" element={<Page><Rejected /></Page>} />
        <Route path="regimes" element={<Page><Regimes /></Page>} />
        <Route path="training" element={<Page><Training /></Page>} />
        <Route path="backtests" element={<Page><Backtests /></Page>} />
        <Route path="instruments" element={<Page><Instruments /></Page>} />
        <Route path="playbooks" element={<Page><Playbooks /></Page>} />
        <Route path="playbooks/:playbookId" element={<Page><Playbooks /></Page>} />
        <Route path="journal" element={<Page><Journal /></Page>} />
        <Route path="journal/:day" element={<Page><Journal /></Page>} />
        <Route path="import" element={<Page><Import /></Page>} />
        <Route path="settings" element={<Page><Settings /></Page>} />
        <Route path="*" element={<p>Page not found.</p>} />
      </Route>
    </Routes>
  );
}

// A data router (not <BrowserRouter>) so a page can hold a navigation it would lose work
// to (useBlocker: the unsaved journal note); every route is still declared in AppRoutes.
const router = createBrowserRouter([{ path: "*", element: <AppRoutes /> }]);

export default function App() {
  return (
    <AuthProvider>
      <RouterProvider router={router} />
    </AuthProvider>
  );
}
