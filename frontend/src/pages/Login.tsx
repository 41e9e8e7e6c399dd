import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ApiError, unwrap } from "../api/client";
import { useAuth } from "../lib/auth";

type Errors = { username?: string; password?: string; form?: string };

/** Splits the server's message onto the field it names (`password: ...`). */
export function errorsFrom(error: unknown): Errors {
  if (!(error instanceof ApiError)) return { form: String(error) };
  const fields = error.fieldErrors();
  const out: Errors = {};
  for (const [field, problem] of Object.entries(fields)) {
    if (field === "username" || field === "password") out[field] = problem;
  }
  if (!out.username && !out.password) {
    const match = /^(username|password):\s*(.*)$/.exec(error.message);
    if (match) out[match[1] as "username" | "password"] = match[2];
    else out.form = error.message;
  }
  return out;
}

export function AuthPage({ mode }: { mode: "login" | "register" }) {
  const { login } = useAuth();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: Errors = {};
    if (!username.trim()) local.username = "enter a username";
    if (!password) local.password = "enter a password";
    setErrors(local);
    if (local.username || local.password) return;
    setBusy(true);
    try {
      if (mode === "register") await unwrap(api.POST("/api/auth/register", { body: { username, password } }));
      await login(username, password);
      navigate("/");
    } catch (error) {
      setErrors(errorsFrom(error));
    } finally {
      setBusy(false);
    }
  };

  const title = mode === "login" ? "Log in" : "Create an account";
  return (
    <div className="auth-page">
      <form className="auth-form panel" onSubmit={submit} noValidate>
        <h1>Fillbook</h1>
        <h2>{title}</h2>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={!!errors.username}
            aria-describedby="username-error"
            autoFocus
          />
        </label>
        {errors.username && (
          <p className="field-error" id="username-error" role="alert">
            {errors.username}
          </p>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={!!errors.password}
            aria-describedby="password-error"
          />
        </label>
        {errors.password && (
          <p className="field-error" id="password-error" role="alert">
            {errors.password}
          </p>
        )}
        {errors.form && (
          <p className="error" role="alert" data-testid="form-error">
            {errors.form}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? "…" : title}
        </button>
        <p className="dim">
          {mode === "login" ? (
            <>
              No account? <Link to="/register">Register</Link>
            </>
          ) : (
            <>
              Have an account? <Link to="/login">Log in</Link>
            </>
          )}
        </p>
      </form>
    </div>
  );
}
