//! Tests of `render_reference`: fixtures, tag filter, recursion, XSS, a large spec.

use super::tests::fixture;
use super::*;

fn render(name: &str, tag: Option<&str>) -> Reference {
    let spec = parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    render_reference(&spec, tag)
}

/// The `<article>` with id `id`.
fn article<'h>(html: &'h str, id: &str) -> &'h str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = html[..at].rfind('<').unwrap_or(at);
    let end = html[start..]
        .find("</article>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[test]
fn swagger2_petstore() {
    let r = render("petstore-swagger2.json", None);
    let html = &r.html;
    assert_eq!(r.tags, ["pet", "store", "default"]);
    assert_eq!(r.operation_count, 7);
    assert!(html.contains("<h2 class=\"spec-title\">Swagger Petstore</h2>"));
    assert!(html.contains("Swagger 2.0"));
    assert!(
        html.contains("<strong>the store</strong>"),
        "Markdown description"
    );
    assert!(html.contains("https://petstore.example.com/v2"));
    assert!(html.contains("http://petstore.example.com/v2"));
    assert!(html.contains("href=\"mailto:apiteam@example.com\""));
    assert!(html.contains("petstore_auth"));

    let list = article(html, "op-listPets");
    assert!(list.contains("spec-method spec-method-get"));
    assert!(list.contains("<code class=\"spec-param-name\">limit</code>"));
    assert!(list.contains("maximum <code>100</code>"), "{list}");
    assert!(list.contains("array&lt;string&gt;"), "{list}");
    assert!(list.contains("<code>available</code>"), "{list}");
    assert!(list.contains("<code>x-next</code>"), "response header");
    assert!(
        list.contains("array&lt;<a class=\"spec-ref\" href=\"#schema-Pet\">Pet</a>&gt;"),
        "{list}"
    );
    assert!(
        list.contains("&quot;name&quot;: &quot;Rex&quot;"),
        "response example: {list}"
    );
    // Named schemas are defined once, in the Schemas section.
    assert!(!list.contains(">photoUrls<"), "{list}");
    assert_eq!(html.matches("id=\"schema-Pet\"").count(), 1);
    assert_eq!(html.matches(">photoUrls</code>").count(), 1);

    let add = article(html, "op-addPet");
    assert!(
        add.contains("Request body <span class=\"spec-required\">required</span>"),
        "{add}"
    );
    assert!(add.contains("Pet object that needs to be added"));
    assert!(
        !add.contains("<th>In</th>"),
        "the body parameter is not in a table"
    );
    assert!(
        add.contains("<code>petstore_auth</code> (write:pets, read:pets)"),
        "{add}"
    );

    let get = article(html, "op-getPetById");
    assert!(
        get.contains("<code class=\"spec-param-name\">petId</code>"),
        "path-level: {get}"
    );
    assert!(get.contains("Pet not found"), "response $ref: {get}");

    let delete = article(html, "op-deletePet");
    assert!(delete.contains("spec-op spec-deprecated"));
    assert!(delete.contains(">Deprecated</span>"));
    assert!(
        delete.contains("Pet id to delete") && !delete.contains("ID of pet<"),
        "{delete}"
    );

    let upload = article(html, "op-uploadFile");
    assert!(upload.contains("<h5>Form fields</h5>"), "{upload}");
    assert!(upload.contains("additionalMetadata") && upload.contains(">file<"));
    assert!(upload.contains("<code>multipart/form-data</code>"));

    let inventory = article(html, "op-getInventory");
    assert!(inventory.contains("map&lt;string, integer"), "{inventory}");
    assert!(article(html, "op-get-health").contains("Health check"));

    let pet = article(html, "schema-Pet");
    for prop in ["id", "category", "name", "photoUrls", "tags", "status"] {
        assert!(pet.contains(&format!(">{prop}</code>")), "{prop}: {pet}");
    }
    assert!(pet.contains("pet status in the store"));
    assert!(pet.contains("&quot;doggie&quot;"), "schema example: {pet}");
}

#[test]
fn openapi30_petstore() {
    let r = render("petstore-openapi30.yaml", None);
    let html = &r.html;
    assert_eq!(r.tags, ["pets", "admin"]);
    assert_eq!(r.operation_count, 5);
    assert!(html.contains("OpenAPI 3.0.3"));
    assert!(html.contains("<li>lists pets</li>"), "Markdown list");
    assert!(html.contains("https://{environment}.petstore.example.com/v1"));
    assert!(html.contains("<code>environment</code> default <code>api</code>"));
    assert!(html.contains("Operations on <strong>pets</strong>"));
    assert!(html.contains("<nav class=\"spec-tags\""));
    assert!(html.contains("<a href=\"?\" aria-current=\"page\">All</a>"));
    assert!(html.contains("<a href=\"?tag=admin\">admin</a>"));

    let list = article(html, "op-listPets");
    assert!(
        list.contains(">limit</code>") && list.contains("minimum <code>1</code>"),
        "{list}"
    );
    assert!(list.contains(">species</code>") && list.contains("default: <code>dog</code>"));
    assert!(
        list.contains("Example <strong>two-pets</strong>: Two pets"),
        "{list}"
    );
    assert!(list.contains("unexpected error"), "response $ref");
    let create = article(html, "op-createPet");
    assert!(
        create.contains("<code>application/json</code>, <code>application/xml</code>"),
        "same schema, one block: {create}"
    );
    assert!(create.contains("&quot;Fluffy&quot;"), "media example");
    assert!(create.contains("<code>bearer</code>"), "security");
    assert!(
        create.contains(
            "<p class=\"spec-type\"><a class=\"spec-ref\" href=\"#schema-NewPet\">NewPet</a></p>"
        ),
        "{create}"
    );

    // deletePet is under both tags: two articles, unique ids.
    assert_eq!(html.matches("Delete a pet").count(), 2);
    assert!(html.contains("id=\"op-deletePet\"") && html.contains("id=\"op-deletePet--admin\""));
    let delete = article(html, "op-deletePet");
    assert!(delete.contains("overrides the path-level one"));
    assert!(!delete.contains("The id of the pet<"), "{delete}");
    assert!(delete.contains("<tr class=\"spec-deprecated\"><td><code class=\"spec-param-name\">reason</code> <span class=\"spec-deprecated-label\">Deprecated</span>"), "{delete}");

    let pet = article(html, "schema-Pet");
    assert!(
        !pet.contains("All of:"),
        "the type line names the members: {pet}"
    );
    assert!(
        pet.contains("<a class=\"spec-ref\" href=\"#schema-NewPet\">NewPet</a> &amp; object"),
        "{pet}"
    );
    // allOf members merged: NewPet's properties, then the extra `id`, all required ones marked.
    assert!(pet.contains(">id</code>") && pet.contains("read-only"));
    assert!(pet.contains(">name</code> <span class=\"spec-type\">string</span> <span class=\"spec-required\">required</span>"), "{pet}");
    assert!(pet.contains(">owner</code> <span class=\"spec-type\"><a class=\"spec-ref\" href=\"#schema-Owner\">Owner</a>"), "{pet}");
    let new_pet = article(html, "schema-NewPet");
    assert!(new_pet.contains("string | null"), "nullable: {new_pet}");
    assert!(new_pet.contains("min length <code>1</code>"));
    let owner = article(html, "schema-Owner");
    assert!(
        owner.contains(">city</code>") && owner.contains("^[0-9]{5}$"),
        "{owner}"
    );
    assert!(owner.contains("string (email)"));
    assert!(article(html, "schema-Pets").contains("max items <code>100</code>"));
}

#[test]
fn tag_filter() {
    let r = render("petstore-openapi30.yaml", Some("admin"));
    assert_eq!(r.tags, ["pets", "admin"], "all tags, whatever the filter");
    assert_eq!(r.operation_count, 2);
    let html = &r.html;
    assert!(html.contains("id=\"op-deletePet\"") && html.contains("id=\"op-getStats\""));
    assert!(!html.contains("op-listPets") && !html.contains("op-createPet"));
    assert!(html.contains("<a href=\"?tag=admin\" aria-current=\"page\">admin</a>"));
    assert!(html.contains("<a href=\"?\">All</a>"));
    assert!(
        !html.contains("spec-schemas"),
        "no schema is used by admin operations"
    );

    let r = render("petstore-openapi30.yaml", Some("pets"));
    assert_eq!(r.operation_count, 4);
    for used in ["Pet", "NewPet", "Owner", "Error", "Pets"] {
        assert!(r.html.contains(&format!("id=\"schema-{used}\"")), "{used}");
    }
    let r = render("petstore-openapi30.yaml", Some("nope"));
    assert_eq!(r.operation_count, 0);
    assert!(r.html.contains("No operations have the tag “nope”."));
    assert_eq!(
        render("petstore-openapi30.yaml", Some("")).operation_count,
        5
    );
    let r = render("petstore-swagger2.json", Some("default"));
    assert_eq!(r.operation_count, 1);
    // Tag names are URL-encoded in links.
    let spec = parse(
        "openapi: 3.0.0\ninfo: {title: t, version: v}\npaths:\n  /a:\n    get:\n      tags: [\"a b&c/d\"]\n      responses: {}\n",
    )
    .unwrap();
    let r = render_reference(&spec, Some("a b&c/d"));
    assert!(
        r.html
            .contains("href=\"?tag=a+b%26c%2Fd\" aria-current=\"page\""),
        "{}",
        r.html
    );
    assert_eq!(r.operation_count, 1);
}

#[test]
fn openapi31_features() {
    let r = render("openapi31.yaml", None);
    let html = &r.html;
    assert_eq!(r.tags, ["events"]);
    assert_eq!(r.operation_count, 2);
    let list = article(html, "op-listEvents");
    assert!(list.contains("string (date-time) | null"), "{list}");
    let hook = article(html, "op-onNewEvent");
    assert!(
        hook.contains("spec-webhook") && hook.contains(">newEvent</code>"),
        "{hook}"
    );
    assert!(hook.contains(">Webhook</span>"));
    let event = article(html, "schema-Event");
    assert!(
        event.contains(">note</code> <span class=\"spec-type\">string | null</span>"),
        "{event}"
    );
    assert!(
        event.contains("&quot;first note&quot;"),
        "schema examples: {event}"
    );
    assert!(
        event.contains("always <code>created</code>"),
        "const: {event}"
    );
    assert!(
        event.contains("greater than <code>0</code>")
            && event.contains("less than <code>10</code>")
    );
    assert!(
        event.contains("&quot;id&quot;: &quot;8a1b&quot;"),
        "component examples: {event}"
    );
}

#[test]
fn recursive_schemas_end() {
    let r = render("recursive.yaml", None);
    let html = &r.html;
    let tree_op = article(html, "op-getTree");
    assert!(
        tree_op.contains("href=\"#schema-Tree\">Tree</a>"),
        "{tree_op}"
    );
    let tree = article(html, "schema-Tree");
    assert!(tree.contains("array&lt;<a class=\"spec-ref spec-recursive\" href=\"#schema-Tree\">↻ Tree (recursive)</a>&gt;"), "{tree}");
    assert!(article(html, "op-getA").contains("href=\"#schema-A\">A</a>"));
    assert!(article(html, "schema-A").contains("↻ B (recursive)"));
    let b = article(html, "schema-B");
    assert!(
        b.contains("↻ A (recursive)") && b.contains("↻ B (recursive)"),
        "{b}"
    );
}

#[test]
fn deep_inline_schemas_are_cut() {
    let mut schema = String::from("{type: string}");
    for i in 0..20 {
        schema = format!("{{type: object, properties: {{level{i}: {schema}}}}}");
    }
    let text = format!(
        "openapi: 3.0.0\ninfo: {{title: t, version: v}}\npaths: {{}}\ncomponents:\n  schemas:\n    Deep: {schema}\n"
    );
    let html = render_reference(&parse(&text).unwrap(), None).html;
    assert!(html.contains("<li class=\"spec-cut\">…</li>"), "{html}");
    assert!(html.contains("level19") && !html.contains("level10<"));
}

#[test]
fn output_is_deterministic() {
    for name in [
        "petstore-swagger2.json",
        "petstore-openapi30.yaml",
        "openapi31.yaml",
    ] {
        assert_eq!(render(name, None).html, render(name, None).html, "{name}");
    }
}

#[test]
fn large_generated_spec() {
    let text = super::testgen::large_spec_text(3 * 1024 * 1024, false);
    assert!(text.len() > 2_500_000, "{}", text.len());
    let spec = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let r = render_reference(&spec, None);
    let resources = spec.doc["paths"].as_object().unwrap().len() / 2;
    assert!(resources > 100, "{resources}");
    assert_eq!(r.operation_count, resources * 5);
    assert!(
        r.html.len() < 3 * text.len(),
        "{} bytes of HTML",
        r.html.len()
    );
    eprintln!(
        "{resources} resources: {} bytes of YAML -> {} bytes of HTML",
        text.len(),
        r.html.len()
    );
    let filtered = render_reference(&spec, Some("group3"));
    assert_eq!(filtered.operation_count, 50);
}
