import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { api, getToken, onTokenChange, setToken, unwrap, type Schemas } from "../api/client";
import { setTimeZone } from "./format";
import { liveStream } from "./stream";

type User = Schemas["UserRead"];

interface AuthState {
  user: User | null;
  ready: boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => void;
  refresh: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside <AuthProvider>");
  return state;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);

  const refresh = async () => {
    if (!getToken()) {
      setUser(null);
      setReady(true);
      return;
    }
    try {
      const me = await unwrap(api.GET("/api/auth/me"));
      setTimeZone(me.timezone);
      setUser(me);
    } catch {
      setUser(null);
    } finally {
      setReady(true);
    }
  };

  useEffect(() => {
    liveStream.setToken(getToken());
    void refresh();
    return onTokenChange((token) => {
      liveStream.setToken(token);
      if (!token) setUser(null);
    });
  }, []);

  const login = async (username: string, password: string) => {
    const token = await unwrap(
      api.POST("/api/auth/login", {
        body: { username, password, scope: "" },
        bodySerializer: (body) => new URLSearchParams({ username: body.username, password: body.password }),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
    );
    setToken(token.access_token);
    await refresh();
  };

  const logout = () => setToken(null);

  return <AuthContext.Provider value={{ user, ready, login, logout, refresh }}>{children}</AuthContext.Provider>;
}
