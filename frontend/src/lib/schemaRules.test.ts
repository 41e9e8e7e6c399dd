import schema from "../../openapi.json";
import { describe, expect, it } from "vitest";
import { nest, propertySchema, validate, type OpenApiDoc } from "./schemaRules";

// The committed schema of the real app (tests/api/test_openapi_dump.py keeps it current).
const doc = schema as unknown as OpenApiDoc;

describe("schema rules from the backend's OpenAPI", () => {
  it("finds nested properties through $ref", () => {
    expect(propertySchema(doc, "TrainingCreate", "hyperparameters.gamma")).toMatchObject({ maximum: 1, minimum: 0 });
  });

  it("accepts the API's defaults", () => {
    expect(
      validate(doc, "TrainingCreate", {
        "hyperparameters.gamma": 0.99,
        "hyperparameters.steps": 20000,
        "model_architecture.activation": "relu",
        "model_architecture.hidden_layers": [64, 64],
        "environment.features": ["returns", "position"],
        "environment.test_fraction": 0.3,
        symbol: null,
      }),
    ).toEqual({});
  });

  it("refuses what the API refuses, saying why", () => {
    expect(
      validate(doc, "TrainingCreate", {
        "hyperparameters.gamma": 1.5,
        "hyperparameters.steps": 5,
        "hyperparameters.batch_size": 2.5,
        "hyperparameters.learning_rate": 0,
        "model_architecture.activation": "sigmoid",
        "model_architecture.hidden_layers": [],
        "environment.features": ["returns", "moon"],
        "environment.test_fraction": 1,
      }),
    ).toEqual({
      "hyperparameters.gamma": "must be ≤ 1",
      "hyperparameters.steps": "must be ≥ 10",
      "hyperparameters.batch_size": "must be a whole number",
      "hyperparameters.learning_rate": "must be > 0",
      "model_architecture.activation": "must be one of relu, tanh, elu, gelu, selu, swish",
      "model_architecture.hidden_layers": "needs at least 1 item",
      "environment.features": '"moon": must be one of returns, range, volume, regime, signal, position',
      "environment.test_fraction": "must be < 1",
    });
  });

  it("nests dotted paths into the request body", () => {
    expect(nest({ "a.b": 1, "a.c": 2, d: 3, e: undefined })).toEqual({ a: { b: 1, c: 2 }, d: 3 });
  });
});
