import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it } from "vitest";
import { AuthProvider } from "../lib/auth";
import { AuthPage } from "./Login";

afterEach(cleanup);

function page(mode: "login" | "register") {
  return render(
    <AuthProvider>
      <MemoryRouter>
        <AuthPage mode={mode} />
      </MemoryRouter>
    </AuthProvider>,
  );
}

describe("AuthPage", () => {
  it("says inline which fields are missing, without calling the API", () => {
    page("register");
    fireEvent.click(screen.getByRole("button", { name: "Create an account" }));
    expect(screen.getByText("enter a username")).toBeTruthy();
    expect(screen.getByText("enter a password")).toBeTruthy();
    expect(screen.getByLabelText("Username").getAttribute("aria-invalid")).toBe("true");
  });

  it("clears a fixed field's error on the next submit", () => {
    page("login");
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "alice" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(screen.queryByText("enter a username")).toBeNull();
    expect(screen.getByText("enter a password")).toBeTruthy();
  });
});
