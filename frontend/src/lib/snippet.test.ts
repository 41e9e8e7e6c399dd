import { describe, expect, it } from "vitest";
import { exporterSnippet, installLine } from "./snippet";

const SDK = { path: "/downloads/fillbook_exporter-0.1.0-py3-none-any.whl", sha256: "ab" };

describe("exporterSnippet", () => {
  it("installs the SDK from this server when it serves the wheel, else from the index", () => {
    expect(installLine("http://h:8000", SDK)).toBe('pip install "http://h:8000/downloads/fillbook_exporter-0.1.0-py3-none-any.whl"');
    expect(installLine("http://h:8000", null)).toBe("pip install fillbook-exporter");
    expect(exporterSnippet("http://h:8000", "fb_k", "desk", SDK)).toContain('# 1. install the SDK:  pip install "http://h:8000/downloads/');
    expect(exporterSnippet("http://h:8000", "fb_k", "desk")).not.toContain("./exporters/python");
  });

  it("sends starting capital, bars and a trade that ends no later than now, and prints", () => {
    const text = exporterSnippet("http://h", "fb_k", "desk");
    expect(text).toContain('"initial_capital": 25_000');
    expect(text).toContain('exporter.bar("MESZ3", "1m"');
    expect(text).toContain("exporter.end(now)");
    expect(text).not.toMatch(/now \+ dt\.timedelta/);
    expect(text).toContain("print(f\"sent {stats['accepted']} events");
    expect(text).toContain('"fb_k"');
    expect(text).toContain('source="desk"');
  });
});
