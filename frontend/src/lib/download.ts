import { getToken } from "../api/client";

/** Downloads an authenticated file (a plain link would not carry the bearer token). */
export async function download(event: { preventDefault: () => void } | null, url: string, filename: string): Promise<void> {
  event?.preventDefault();
  const response = await fetch(url, { headers: { Authorization: `Bearer ${getToken()}` } });
  if (!response.ok) throw new Error(`download failed (HTTP ${response.status})`);
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
