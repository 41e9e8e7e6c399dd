export type Theme = "dark" | "light";
const KEY = "fillbook.theme";

export function currentTheme(): Theme {
  return localStorage.getItem(KEY) === "light" ? "light" : "dark";
}

export function applyTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
  document.documentElement.dataset.theme = theme;
}

/** Chart colours read from the CSS variables of the active theme. */
export function chartColors(): { text: string; grid: string; up: string; down: string; accent: string; bg: string } {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: read("--text-dim", "#9aa4b2"),
    grid: read("--border", "#2a3240"),
    up: read("--pos", "#26a69a"),
    down: read("--neg", "#ef5350"),
    accent: read("--accent", "#4f8cff"),
    bg: read("--panel", "#151a22"),
  };
}
