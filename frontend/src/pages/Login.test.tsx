import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { errorsFrom } from "./Login";

describe("errorsFrom", () => {
  it("puts a 422's field problems next to their fields", () => {
    const error = new ApiError(422, { error: "invalid_payload", detail: "x", errors: [{ field: "password", problem: "at least 8 characters" }] });
    expect(errorsFrom(error)).toEqual({ password: "at least 8 characters" });
  });
  it("reads a field from a domain error's detail", () => {
    expect(errorsFrom(new ApiError(409, { error: "conflict", detail: "username: alice is taken" }))).toEqual({ username: "alice is taken" });
  });
  it("keeps other errors for the whole form", () => {
    expect(errorsFrom(new ApiError(401, { error: "not_authenticated", detail: "wrong username or password" }))).toEqual({
      form: "wrong username or password",
    });
  });
});
