// Screenshots of a trade, a day or a playbook: thumbnails, a lightbox (Esc closes), delete,
// and three ways in: a drop zone, the upload button, and a paste anywhere on the page
// (Ctrl+V). Images are fetched with the bearer token (an <img src> cannot send it):
// fetch → blob → object URL, revoked once the image is gone.
import { useCallback, useEffect, useRef, useState, type DragEvent } from "react";
import { api, ApiError, getToken, unwrap, type ApiErrorBody, type Schemas } from "../api/client";
import { dateTime } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { filenameHeader, imageFiles, imageProblem } from "../lib/journal";
import { ErrorNote } from "./Layout";

type Attachment = Schemas["AttachmentRead"];
export type AttachmentTarget = Attachment["target"];

/** POST the raw image; the server checks its content, size and pixels. */
export async function uploadAttachment(target: AttachmentTarget, key: string, file: File): Promise<Attachment> {
  const problem = imageProblem(file);
  if (problem) throw new Error(problem);
  const headers: Record<string, string> = { "Content-Type": file.type };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const name = filenameHeader(file.name);
  if (name) headers["X-Filename"] = name;
  const query = new URLSearchParams({ target, key });
  const response = await fetch(`/api/attachments?${query}`, { method: "POST", headers, body: file });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(response.status, body as ApiErrorBody | undefined);
  return body as Attachment;
}

/** An image of the API as an object URL, fetched with the token; revoked when `url` changes or the component goes. */
export function useAuthedImage(url: string | null): { src: string | null; error: string | null } {
  const [state, setState] = useState<{ src: string | null; error: string | null }>({ src: null, error: null });
  useEffect(() => {
    if (!url) return;
    const controller = new AbortController();
    let objectUrl: string | null = null;
    const token = getToken();
    fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: controller.signal })
      .then(async (response) => {
        if (!response.ok) throw new Error(`image not loaded (HTTP ${response.status})`);
        const blob = await response.blob();
        if (controller.signal.aborted) return;
        objectUrl = URL.createObjectURL(blob);
        setState({ src: objectUrl, error: null });
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setState({ src: null, error: error instanceof Error ? error.message : String(error) });
      });
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      setState({ src: null, error: null });
    };
  }, [url]);
  return state;
}

function AuthedImage({ url, alt, className, testId }: { url: string; alt: string; className?: string; testId?: string }) {
  const { src, error } = useAuthedImage(url);
  if (error) return <span className="dim thumb-missing">{error}</span>;
  if (!src) return <span className="dim thumb-missing">Loading…</span>;
  return <img src={src} alt={alt} className={className} data-testid={testId} />;
}

function Lightbox({ attachment, onClose }: { attachment: Attachment; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    closeRef.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        event.preventDefault();
        onClose();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="lightbox" role="dialog" aria-modal="true" aria-label={attachment.filename} data-testid="lightbox" onClick={onClose}>
      <figure onClick={(event) => event.stopPropagation()}>
        <AuthedImage url={attachment.url} alt={attachment.filename} className="lightbox-image" testId="lightbox-image" />
        <figcaption>
          {attachment.filename} · {attachment.width}×{attachment.height} px · {dateTime(attachment.created_at)}
          <button ref={closeRef} onClick={onClose} aria-label="Close">
            Close (Esc)
          </button>
        </figcaption>
      </figure>
    </div>
  );
}

/**
 * The attachments of one target. With `paste`, an image pasted anywhere on the page
 * (outside a text field, or inside one when the clipboard holds an image) is attached here.
 */
export function Attachments({ target, targetKey, paste = false, title = "Screenshots" }: { target: AttachmentTarget; targetKey: string; paste?: boolean; title?: string }) {
  const list = useLoad((signal) => unwrap(api.GET("/api/attachments", { params: { query: { target, key: targetKey } }, signal })), [target, targetKey]);
  const [open, setOpen] = useState<Attachment | null>(null);
  const [busy, setBusy] = useState(0);
  const [error, setError] = useState<Error>();
  const [over, setOver] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const reload = list.reload;

  useStream(["journal_changed"], (message) => {
    if (message.target === "attachment" && message.key === `${target}:${targetKey}`) reload();
  });

  const upload = useCallback(
    async (files: File[]) => {
      if (files.length === 0) return;
      setError(undefined);
      setBusy((n) => n + files.length);
      for (const file of files) {
        try {
          await uploadAttachment(target, targetKey, file);
        } catch (e) {
          setError(e instanceof Error ? e : new Error(String(e)));
        } finally {
          setBusy((n) => n - 1);
        }
      }
      reload();
    },
    [target, targetKey, reload],
  );

  useEffect(() => {
    if (!paste) return;
    const onPaste = (event: ClipboardEvent) => {
      const files = imageFiles(event.clipboardData?.files);
      if (files.length === 0) return; // text: the field's own paste
      event.preventDefault();
      void upload(files.map((file, i) => (file.name && file.name !== "image.png" ? file : new File([file], `pasted-${Date.now()}-${i + 1}.${file.type.split("/")[1] ?? "png"}`, { type: file.type }))));
    };
    window.addEventListener("paste", onPaste);
    return () => window.removeEventListener("paste", onPaste);
  }, [paste, upload]);

  const remove = async (attachment: Attachment) => {
    if (!window.confirm(`Delete ${attachment.filename}?`)) return;
    try {
      await unwrap(api.DELETE("/api/attachments/{attachment_id}", { params: { path: { attachment_id: attachment.id } } }));
      reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    void upload(Array.from(event.dataTransfer.files));
  };
  const items = list.data ?? [];

  return (
    <div className="attachments" data-testid={`attachments-${target}`}>
      <h3>{title}</h3>
      <div
        className={over ? "drop-zone over" : "drop-zone"}
        data-testid="drop-zone"
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <span className="dim">Drop images here{paste ? ", paste one (Ctrl+V)" : ""} or</span>
        <button type="button" onClick={() => fileInput.current?.click()}>
          Upload…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="image/png,image/jpeg,image/webp"
          multiple
          hidden
          data-testid="attachment-input"
          onChange={(event) => {
            void upload(Array.from(event.currentTarget.files ?? []));
            event.currentTarget.value = "";
          }}
        />
        {busy > 0 && <span aria-live="polite" data-testid="uploading">Uploading {busy}…</span>}
      </div>
      <ErrorNote error={error ?? list.error} />
      {items.length > 0 ? (
        <ul className="thumbs" data-testid="thumbnails">
          {items.map((attachment) => (
            <li key={attachment.id}>
              <button type="button" className="thumb" onClick={() => setOpen(attachment)} aria-label={`Open ${attachment.filename}`} title={`${attachment.filename} (${attachment.width}×${attachment.height})`}>
                <AuthedImage url={attachment.thumbnail_url} alt={attachment.filename} testId="thumbnail" />
              </button>
              <button type="button" className="danger thumb-delete" onClick={() => void remove(attachment)} aria-label={`Delete ${attachment.filename}`}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      ) : (
        !list.loading && <p className="dim">No screenshots yet.</p>
      )}
      {open && <Lightbox attachment={open} onClose={() => setOpen(null)} />}
    </div>
  );
}
