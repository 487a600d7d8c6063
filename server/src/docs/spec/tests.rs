//! Tests of `parse`: fixtures, and every way a spec can be refused.

use super::*;
use app::error::AppError;

pub(super) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/specs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The message of the validation error that `text` must give.
pub(super) fn refused(text: &str) -> String {
    match parse(text) {
        Ok(spec) => panic!("accepted: {} {:?}", spec.title, spec.warnings),
        Err(e) => {
            assert_eq!(e.field(), Some("spec"));
            assert_eq!(e.status(), 422);
            match e {
                AppError::Validation { message, .. } => message,
                other => panic!("not a validation error: {other:?}"),
            }
        }
    }
}

#[test]
fn formats_round_trip() {
    for f in [SpecFormat::Json, SpecFormat::Yaml] {
        assert_eq!(SpecFormat::parse(f.as_str()), Some(f));
    }
    assert_eq!(SpecFormat::Json.content_type(), "application/json");
    assert_eq!(SpecFormat::Yaml.content_type(), "application/yaml");
    assert_eq!(SpecFormat::parse("xml"), None);
}

#[test]
fn fixtures_parse() {
    let cases = [
        (
            "petstore-swagger2.json",
            SpecFormat::Json,
            Dialect::Swagger2,
            "2.0",
            "Swagger Petstore",
            "1.0.7",
        ),
        (
            "petstore-openapi30.yaml",
            SpecFormat::Yaml,
            Dialect::OpenApi30,
            "3.0.3",
            "Petstore (OpenAPI 3.0)",
            "2.1.0",
        ),
        (
            "openapi31.yaml",
            SpecFormat::Yaml,
            Dialect::OpenApi31,
            "3.1.0",
            "Events API (3.1)",
            "0.9",
        ),
        (
            "recursive.yaml",
            SpecFormat::Yaml,
            Dialect::OpenApi30,
            "3.0.0",
            "Recursive schemas",
            "1",
        ),
    ];
    for (name, format, dialect, version, title, api_version) in cases {
        let spec = parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(spec.format, format, "{name}");
        assert_eq!(spec.dialect, dialect, "{name}");
        assert_eq!(spec.spec_version, version, "{name}");
        assert_eq!(spec.title, title, "{name}");
        assert_eq!(spec.api_version, api_version, "{name}");
        assert!(spec.warnings.is_empty(), "{name}: {:?}", spec.warnings);
    }
}

#[test]
fn empty_and_too_large() {
    for text in ["", "   \n\t\n", "\u{feff}"] {
        assert!(
            refused(text).starts_with("The API spec is empty"),
            "{text:?}"
        );
    }
    let big = "#".repeat(12_897_485);
    assert_eq!(
        refused(&big),
        "An API spec is at most 10 MB; this one is 12.3 MB."
    );
    let just_over = " ".repeat(SPEC_MAX_BYTES + 1);
    assert!(refused(&just_over).starts_with("An API spec is at most 10 MB"));
}

#[test]
fn invalid_yaml_says_where() {
    let m = refused("openapi: 3.0.0\ninfo: x: y\n");
    assert_eq!(
        m,
        "Invalid YAML at line 2, column 8: mapping values are not allowed in this context."
    );
    let m = refused("openapi: 3.0.0\ninfo:\n  title: [unclosed\n  version: 1\n");
    assert!(m.starts_with("Invalid YAML at line "), "{m}");
    assert!(m.contains(", column "), "{m}");
    let m = refused("a: 1\n---\nb: 2\n");
    assert!(m.contains("more than one YAML document"), "{m}");
}

#[test]
fn invalid_json_says_where() {
    let m = refused("{\n  \"openapi\": \"3.0.0\",\n  \"info\": {,}\n}");
    assert_eq!(
        m,
        "Invalid JSON at line 3, column 12: key must be a string."
    );
    let m = refused("{\"openapi\": \"3.0.0\"} trailing");
    assert!(m.starts_with("Invalid JSON at line 1, column "), "{m}");
    assert!(m.contains("trailing characters"), "{m}");
    let m = refused("  {\"openapi\": ");
    assert!(m.starts_with("Invalid JSON at line 1, column"), "{m}");
}

#[test]
fn not_a_document() {
    let m = refused("[1, 2]");
    assert_eq!(
        m,
        "This is not an OpenAPI or Swagger document: it is a list, not an object with an \
         `openapi` or `swagger` field."
    );
    assert!(refused("42").contains("it is a number"));
    assert!(refused("just some text").contains("it is a single text value"));
    assert!(refused("# only a comment\n").contains("it is empty"));
    let no_field = "This is not an OpenAPI or Swagger document: it has neither an `openapi` \
                    nor a `swagger` field.";
    assert_eq!(refused("{\"info\": {\"title\": \"x\"}}"), no_field);
    assert_eq!(refused("name: x\nversion: 1\n"), no_field);
}

#[test]
fn unsupported_versions() {
    let m = refused("swagger: \"1.2\"\ninfo: {title: t, version: v}\npaths: {}\n");
    assert!(m.starts_with("Unsupported Swagger version \"1.2\""), "{m}");
    assert!(
        m.contains("Swagger 2.0, OpenAPI 3.0.x and OpenAPI 3.1.x"),
        "{m}"
    );
    let m = refused("{\"swaggerVersion\": \"1.2\", \"apis\": []}");
    assert!(m.starts_with("Unsupported Swagger version \"1.2\""), "{m}");
    for v in ["4.0.0", "3.2.0", "2.0", "three"] {
        let m = refused(&format!(
            "openapi: \"{v}\"\ninfo: {{title: t, version: v}}\npaths: {{}}\n"
        ));
        assert_eq!(
            m,
            format!(
                "Unsupported OpenAPI version \"{v}\": supported are Swagger 2.0, OpenAPI 3.0.x \
                 and OpenAPI 3.1.x."
            )
        );
    }
    let m = refused("openapi: [3]\ninfo: {title: t, version: v}\npaths: {}\n");
    assert!(m.contains("must be a version string"), "{m}");
}

#[test]
fn unquoted_versions_are_taken_with_a_warning() {
    let spec = parse("openapi: 3.1\ninfo: {title: t, version: 1.0}\npaths: {}\n").unwrap();
    assert_eq!(spec.dialect, Dialect::OpenApi31);
    assert_eq!(spec.spec_version, "3.1");
    assert_eq!(spec.api_version, "1.0");
    assert_eq!(spec.warnings.len(), 2, "{:?}", spec.warnings);
    let spec = parse("swagger: 2.0\ninfo: {title: t, version: v}\npaths: {}\n").unwrap();
    assert_eq!(spec.dialect, Dialect::Swagger2);
}

#[test]
fn info_and_paths_are_required() {
    let m = refused("openapi: 3.0.0\npaths: {}\n");
    assert!(m.starts_with("`info` is missing (at #/info)"), "{m}");
    let m = refused("openapi: 3.0.0\ninfo: {version: v}\npaths: {}\n");
    assert!(
        m.starts_with("`info.title` is missing (at #/info/title)"),
        "{m}"
    );
    let m = refused("openapi: 3.0.0\ninfo: {title: [a], version: v}\npaths: {}\n");
    assert!(m.starts_with("`info.title` must be a string"), "{m}");
    let m = refused("openapi: 3.0.0\ninfo: {title: t}\npaths: {}\n");
    assert!(
        m.starts_with("`info.version` is missing (at #/info/version)"),
        "{m}"
    );
    let m = refused("openapi: 3.0.0\ninfo: {title: t, version: v}\n");
    assert!(m.starts_with("`paths` is missing (at #/paths)"), "{m}");
    let m = refused("swagger: '2.0'\ninfo: {title: t, version: v}\n");
    assert!(m.contains("a Swagger 2.0 document must have it"), "{m}");
    let m = refused("openapi: 3.0.0\ninfo: {title: t, version: v}\npaths: [a]\n");
    assert_eq!(m, "`paths` must be an object, not a list (at #/paths).");
    let m = refused("openapi: 3.1.0\ninfo: {title: t, version: v}\n");
    assert!(
        m.contains("at least one of `paths`, `webhooks` or `components`"),
        "{m}"
    );
    // 3.1 needs no paths when it has webhooks or components.
    let spec = parse("openapi: 3.1.0\ninfo: {title: t, version: v}\ncomponents: {}\n").unwrap();
    assert_eq!(spec.dialect, Dialect::OpenApi31);
}

const BROKEN_REF: &str = r##"
openapi: 3.0.0
info: {title: t, version: v}
paths:
  /pets:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Pet2'
components:
  schemas:
    Pet: {type: object}
"##;

#[test]
fn broken_internal_refs_are_refused() {
    assert_eq!(
        refused(BROKEN_REF),
        "`$ref` #/components/schemas/Pet2 (at \
         #/paths/~1pets/get/responses/200/content/application~1json/schema) points to nothing."
    );
    let two = BROKEN_REF.replace(
        "Pet: {type: object}",
        "Pet: {type: object, properties: {a: {$ref: '#/nope'}}}",
    );
    let m = refused(&two);
    // The first broken one in document order (objects are sorted by key).
    assert!(
        m.starts_with("`$ref` #/nope (at #/components/schemas/Pet/properties/a)"),
        "{m}"
    );
    assert!(
        m.contains("1 more `$ref` points to nothing as well."),
        "{m}"
    );
    let anchor = BROKEN_REF.replace("'#/components/schemas/Pet2'", "'#missing'");
    assert!(refused(&anchor).starts_with("`$ref` #missing (at #/paths"));
    let swagger = r##"{"swagger": "2.0", "info": {"title": "t", "version": "v"},
        "paths": {"/a": {"get": {"parameters": [{"$ref": "#/parameters/nope"}],
        "responses": {"200": {"description": "ok"}}}}}}"##;
    assert_eq!(
        refused(swagger),
        "`$ref` #/parameters/nope (at #/paths/~1a/get/parameters/0) points to nothing."
    );
}

#[test]
fn escaped_and_encoded_refs_resolve() {
    let text = r##"
openapi: 3.1.0
info: {title: t, version: v}
paths:
  /pets/{id}:
    get:
      responses:
        '200': {$ref: '#/paths/~1pets~1%7Bid%7D/x-shared'}
    x-shared: {description: shared}
components:
  schemas:
    "My Pet": {type: object}
    "a~b": {$ref: '#/components/schemas/My%20Pet'}
    c: {$ref: '#/components/schemas/a~0b'}
    d: {$anchor: dee, type: string}
    e: {$ref: '#dee'}
    literal:
      example: {$ref: '#/not/checked'}
      properties:
        $ref: {type: string}
        example: {$ref: '#/components/schemas/c'}
"##;
    let spec = parse(text).unwrap_or_else(|e| panic!("{e}"));
    assert!(spec.warnings.is_empty(), "{:?}", spec.warnings);
}

#[test]
fn external_refs_are_warnings() {
    let text = BROKEN_REF
        .replace(
            "'#/components/schemas/Pet2'",
            "'./common.yaml#/components/schemas/Error'",
        )
        .replace(
            "description: ok",
            "description: ok\n          headers: {x: {$ref: 'https://example.com/h.yaml'}}",
        );
    let spec = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        spec.warnings,
        [
            "External reference not resolved: ./common.yaml#/components/schemas/Error (at \
             #/paths/~1pets/get/responses/200/content/application~1json/schema)",
            "External reference not resolved: https://example.com/h.yaml (at \
             #/paths/~1pets/get/responses/200/headers/x)"
        ]
    );
    // The reference still renders (as the reference's text).
    let html = render_reference(&spec, None).html;
    assert!(
        html.contains("./common.yaml#/components/schemas/Error"),
        "{html}"
    );
}

#[test]
fn hostile_inputs_do_not_crash() {
    for text in [
        "[".repeat(100_000),
        "{\"a\":".repeat(100_000),
        "- ".repeat(50_000),
        format!("openapi: 3.0.0\ninfo: {}", "{a: ".repeat(10_000)),
        "a: &a [x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\n".to_string(),
        "\0\u{1}\u{2}".to_string(),
        "{\"openapi\": \"3.0.0\", \"info\": {\"title\": \"\\ud800\"}}".to_string(),
        "openapi: 3.0.0\ninfo: {title: t, version: v}\npaths:\n  /a: *unknown\n".to_string(),
    ] {
        let _ = parse(&text);
    }
    // Reference cycles made only of `$ref`s are valid pointers; rendering ends.
    let cycle = r##"
openapi: 3.0.0
info: {title: t, version: v}
paths:
  /a:
    $ref: '#/paths/~1b'
  /b:
    $ref: '#/paths/~1a'
  /c:
    get:
      parameters: [{$ref: '#/components/parameters/p'}]
      responses:
        '200': {$ref: '#/components/responses/r'}
components:
  parameters:
    p: {$ref: '#/components/parameters/p'}
  responses:
    r: {$ref: '#/components/responses/r'}
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/A'}
    C: {$ref: '#/components/schemas/C/properties/x', properties: {x: {$ref: '#/components/schemas/C/properties/x'}}}
"##;
    let spec = parse(cycle).unwrap_or_else(|e| panic!("{e}"));
    let html = render_reference(&spec, None).html;
    assert!(html.contains("id=\"schema-A\""), "{html}");
}
