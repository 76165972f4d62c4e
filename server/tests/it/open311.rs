//! Open311 GeoReport v2 over HTTP, with the spec's examples as a client would send them: the
//! service list and definitions, requests filed with a position or with only an address, their
//! status as the brigade works on them, queries, errors in the spec's format, both JSON and XML
//! — and the complainant's contact kept from every Open311 answer and from non-dispatchers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use griddispatch::config::Open311Client;
use griddispatch_protocol::command::ReportSource;
use griddispatch_protocol::Role;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::assert_error;
use crate::workflow::{uuid, Town};

const KEY: &str = "platform-12345-key-do-not-share";

async fn town() -> Town {
    let t = Town::new_with(|c| {
        c.open311.agency = Some("某镇综合行政执法队".into());
        c.open311.jurisdiction_id = Some("town.example".into());
        c.open311.clients = vec![Open311Client {
            name: "12345".into(),
            api_key_sha256: hex::encode(Sha256::digest(KEY.as_bytes())),
            account: "hotline12345".into(),
            source: ReportSource::Hotline,
        }];
    })
    .await;
    t.app.user("hotline12345", &[Role::Dispatcher]);
    t
}

async fn post_form(t: &Town, fmt: &str, form: &[(&str, &str)]) -> reqwest::Response {
    t.app
        .client
        .post(t.app.url(&format!("/open311/v2/requests.{fmt}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn get_raw(t: &Town, path: &str) -> (u16, String, String) {
    let r = t.app.get(path, None).await;
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, r.text().await.unwrap())
}

async fn get_json(t: &Town, path: &str) -> Value {
    let (status, ctype, body) = get_raw(t, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    serde_json::from_str(&body).unwrap()
}

/// An Open311 error: the status, `[{"code": status, "description": "<code>: …"}]`.
async fn assert_o311_error(resp: reqwest::Response, status: u16, code: &str) {
    assert_eq!(resp.status().as_u16(), status);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body[0]["code"], status, "{body}");
    let d = body[0]["description"].as_str().unwrap();
    assert!(d.starts_with(&format!("{code}: ")), "{d}");
}

fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + end])
}

#[actix_web::test]
async fn services_and_definitions_come_from_the_categories_in_json_and_xml() {
    let t = town().await;
    let list = get_json(&t, "/open311/v2/services.json").await;
    let s = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "0401")
        .expect("category 0401 is a service");
    assert_eq!(s["service_name"], "类别0401");
    assert_eq!(s["metadata"], false);
    assert_eq!(s["type"], "realtime");
    assert_eq!(s["group"], "城市管理");

    let (status, ctype, xml) = get_raw(&t, "/open311/v2/services.xml").await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/xml"), "{ctype}");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<services>") && xml.contains("<service>"),
        "{xml}"
    );
    assert!(xml.contains("<service_code>0401</service_code>"), "{xml}");
    assert!(xml.contains("<metadata>false</metadata>"), "{xml}");

    let def = get_json(&t, "/open311/v2/services/0401.json").await;
    assert_eq!(def["service_code"], "0401");
    assert_eq!(def["attributes"], json!([]));
    let (status, _, xml) = get_raw(&t, "/open311/v2/services/0401.xml").await;
    assert_eq!(status, 200);
    assert_eq!(tag(&xml, "service_code"), Some("0401"));
    assert!(xml.contains("<service_definition>"), "{xml}");

    assert_o311_error(
        t.app.get("/open311/v2/services/9999.json", None).await,
        404,
        "not_found",
    )
    .await;
    // The XML answer of an error is the spec's <errors>.
    let (status, ctype, xml) = get_raw(&t, "/open311/v2/services/9999.xml").await;
    assert_eq!(status, 404);
    assert!(ctype.starts_with("text/xml"), "{ctype}");
    assert_eq!(tag(&xml, "code"), Some("404"));
    assert!(
        tag(&xml, "description").unwrap().starts_with("not_found: "),
        "{xml}"
    );
    assert_o311_error(
        t.app.get("/open311/v2/services.yaml", None).await,
        404,
        "not_found",
    )
    .await;
    assert_o311_error(
        t.app
            .get("/open311/v2/services.json?jurisdiction_id=elsewhere", None)
            .await,
        400,
        "unknown_jurisdiction",
    )
    .await;
    let ok = get_json(&t, "/open311/v2/services.json?jurisdiction_id=town.example").await;
    assert!(!ok.as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn a_platform_files_requests_and_reads_their_status_without_the_callers_contact() {
    let t = town().await;
    let (lat, lon) = (t.point.0.to_string(), t.point.1.to_string());
    let resp = post_form(
        &t,
        "json",
        &[
            ("api_key", KEY),
            ("jurisdiction_id", "town.example"),
            ("service_code", "0401"),
            ("lat", &lat),
            ("long", &lon),
            ("description", "人民路有人占道经营，堵塞人行道"),
            ("email", "wang@example.com"),
            ("first_name", "先生"),
            ("last_name", "王"),
            ("phone", "13800000000"),
            ("account_id", "acct-77"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let created: Value = resp.json().await.unwrap();
    let placed = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created[0]["account_id"], "acct-77");
    assert!(created[0]["service_notice"].as_str().unwrap().len() > 10);

    // A 12345 call with an address and no position, answered in XML.
    let resp = post_form(
        &t,
        "xml",
        &[
            ("api_key", KEY),
            ("service_code", "0401"),
            ("address_string", "人民路 12 号门口"),
            ("description", "来电反映门口堆放杂物"),
            ("phone", "13900000000"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let xml = resp.text().await.unwrap();
    assert!(
        xml.contains("<service_requests>") && xml.contains("<request>"),
        "{xml}"
    );
    let by_address = tag(&xml, "service_request_id").unwrap().to_owned();

    // The reports entered triage through the one command path, with the hotline as source
    // and the contact kept private: the dispatcher reads it, the approver does not.
    let disp = t.get(&format!("/api/v1/reports/{placed}")).await;
    assert_eq!(disp["report"]["source"], "hotline");
    assert_eq!(disp["report"]["contact"]["email"], "wang@example.com");
    assert_eq!(disp["report"]["contact"]["name"], "王先生");
    assert_eq!(disp["report"]["contact"]["phone"], "13800000000");
    let boss = t
        .app
        .get(
            &format!("/api/v1/reports/{placed}"),
            Some(&t.tokens["boss"]),
        )
        .await;
    let boss = boss.text().await.unwrap();
    assert!(boss.contains("人民路有人占道经营"), "{boss}");
    assert!(
        !boss.contains("13800000000") && !boss.contains("wang@example.com"),
        "{boss}"
    );

    // Reading the status: never the contact, in either format.
    let one = get_json(&t, &format!("/open311/v2/requests/{placed}.json")).await;
    let r = &one[0];
    assert_eq!(r["service_request_id"], placed.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "0401");
    assert_eq!(r["service_name"], "类别0401");
    assert_eq!(r["agency_responsible"], "某镇综合行政执法队");
    assert!((r["lat"].as_f64().unwrap() - t.point.0).abs() < 1e-9);
    assert!((r["long"].as_f64().unwrap() - t.point.1).abs() < 1e-9);
    assert!(r["status_notes"].as_str().unwrap().contains("待受理"));
    let text = one.to_string();
    assert!(
        !text.contains("13800000000") && !text.contains("wang@") && !text.contains("王先生"),
        "{text}"
    );
    let (status, _, xml) = get_raw(&t, &format!("/open311/v2/requests/{by_address}.xml")).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(tag(&xml, "status"), Some("open"));
    assert_eq!(tag(&xml, "address"), Some("人民路 12 号门口"));
    assert_eq!(tag(&xml, "lat"), Some(""));
    assert!(tag(&xml, "status_notes").unwrap().contains("定位"), "{xml}");
    assert!(!xml.contains("13900000000"), "{xml}");

    // The dispatcher places the address on the map and dispatches; the other is rejected.
    t.ok(
        "disp",
        json!({"type": "set_report_position", "report_id": by_address, "position": {"lat": t.point.0, "lon": t.point.1}}),
    )
    .await;
    t.ok(
        "disp",
        json!({"type": "dispatch_report", "report_id": by_address, "task_id": uuid(), "squad_id": t.squad}),
    )
    .await;
    t.ok(
        "disp",
        json!({"type": "reject_report", "report_id": placed, "reason": "经核实为合法摆摊点"}),
    )
    .await;
    let dispatched = get_json(&t, &format!("/open311/v2/requests/{by_address}.json")).await;
    assert_eq!(dispatched[0]["status"], "open");
    assert!(
        dispatched[0]["expected_datetime"].is_string(),
        "{dispatched}"
    );
    assert!(dispatched[0]["status_notes"]
        .as_str()
        .unwrap()
        .contains("派遣"));
    let rejected = get_json(&t, &format!("/open311/v2/requests/{placed}.json")).await;
    assert_eq!(rejected[0]["status"], "closed");
    assert!(rejected[0]["status_notes"]
        .as_str()
        .unwrap()
        .contains("经核实为合法摆摊点"));

    // Queries: by ids, by status, by service code and dates; JSON and XML.
    let both = get_json(
        &t,
        &format!("/open311/v2/requests.json?service_request_id={placed},{by_address}"),
    )
    .await;
    assert_eq!(both.as_array().unwrap().len(), 2);
    let open = get_json(&t, "/open311/v2/requests.json?status=open").await;
    let ids: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![by_address.as_str()]);
    let closed = get_json(&t, "/open311/v2/requests.json?status=closed").await;
    assert_eq!(closed[0]["service_request_id"], placed.as_str());
    assert_eq!(closed.as_array().unwrap().len(), 1);
    let none = get_json(&t, "/open311/v2/requests.json?service_code=0601").await;
    assert!(none.as_array().unwrap().is_empty());
    let all = get_json(
        &t,
        "/open311/v2/requests.json?service_code=0401,0601&start_date=2020-01-01T00:00:00Z&end_date=2020-03-01T00:00:00Z",
    )
    .await;
    assert!(all.as_array().unwrap().is_empty(), "outside the range");
    let (status, _, xml) = get_raw(&t, "/open311/v2/requests.xml?status=open,closed").await;
    assert_eq!(status, 200);
    assert_eq!(xml.matches("<request>").count(), 2, "{xml}");

    // A report filed in the console is no Open311 request.
    let console = t.report("0401").await;
    assert_o311_error(
        t.app
            .get(&format!("/open311/v2/requests/{console}.json"), None)
            .await,
        404,
        "not_found",
    )
    .await;
    let with_console = get_json(
        &t,
        &format!("/open311/v2/requests.json?service_request_id={console},not-an-id"),
    )
    .await;
    assert!(with_console.as_array().unwrap().is_empty());
    t.verify();
}

#[actix_web::test]
async fn bad_requests_get_the_specs_errors_and_file_nothing() {
    let t = town().await;
    let before = t.audit_count();
    let lat = t.point.0.to_string();
    let base = |key: &'static str| {
        vec![
            ("api_key", key),
            ("service_code", "0401"),
            ("description", "占道经营"),
        ]
    };
    let mut wrong_key = base("not-the-key");
    wrong_key.push(("address_string", "人民路"));
    assert_o311_error(
        post_form(&t, "json", &wrong_key).await,
        403,
        "invalid_api_key",
    )
    .await;
    let resp = post_form(&t, "xml", &wrong_key).await;
    assert_eq!(resp.status(), 403);
    let xml = resp.text().await.unwrap();
    assert!(
        xml.contains("<errors>") && xml.contains("<code>403</code>"),
        "{xml}"
    );

    let no_code = vec![
        ("api_key", KEY),
        ("address_string", "人民路"),
        ("description", "x"),
    ];
    assert_o311_error(
        post_form(&t, "json", &no_code).await,
        400,
        "service_code_required",
    )
    .await;
    assert_o311_error(
        post_form(&t, "json", &base(KEY)).await,
        400,
        "position_required",
    )
    .await;
    let mut half = base(KEY);
    half.push(("lat", &lat));
    assert_o311_error(post_form(&t, "json", &half).await, 400, "invalid_position").await;
    let mut nan = base(KEY);
    nan.extend([("lat", "NaN"), ("long", "abc")]);
    assert_o311_error(post_form(&t, "json", &nan).await, 400, "invalid_position").await;
    let mut outside = base(KEY);
    outside.extend([("lat", "0.5"), ("long", "0.5")]);
    assert_o311_error(post_form(&t, "json", &outside).await, 400, "outside_grid").await;
    let mut unknown = base(KEY);
    unknown[1] = ("service_code", "9999");
    unknown.push(("address_string", "人民路"));
    assert_o311_error(post_form(&t, "json", &unknown).await, 404, "not_found").await;
    let empty = vec![
        ("api_key", KEY),
        ("service_code", "0401"),
        ("address_string", "人民路"),
    ];
    assert_o311_error(
        post_form(&t, "json", &empty).await,
        400,
        "description_required",
    )
    .await;
    let mut nul = base(KEY);
    nul.extend([("address_string", "人民路"), ("phone", "138\u{0}")]);
    assert_o311_error(post_form(&t, "json", &nul).await, 400, "invalid_text").await;
    let mut elsewhere = base(KEY);
    elsewhere.extend([("address_string", "人民路"), ("jurisdiction_id", "other")]);
    assert_o311_error(
        post_form(&t, "json", &elsewhere).await,
        400,
        "unknown_jurisdiction",
    )
    .await;

    // Queries the spec does not allow.
    for (q, code) in [
        ("start_date=yesterday", "invalid_date"),
        (
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            "date_range_too_long",
        ),
        (
            "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
            "date_range_too_long",
        ),
        ("status=pending", "invalid_status"),
    ] {
        assert_o311_error(
            t.app
                .get(&format!("/open311/v2/requests.json?{q}"), None)
                .await,
            400,
            code,
        )
        .await;
    }
    assert_eq!(t.audit_count(), before, "no refusal wrote anything");

    // A disabled intake account files nothing either.
    let admin = &t.tokens["admin1"];
    let id = t.id("hotline12345");
    let r = t
        .app
        .post(
            &format!("/api/v1/users/{id}/disable"),
            &json!({}),
            Some(admin),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let mut ok = base(KEY);
    ok.push(("address_string", "人民路"));
    assert_o311_error(post_form(&t, "json", &ok).await, 403, "account_disabled").await;
    // The regular API keeps its own error shape.
    assert_error(
        t.app.get("/api/v1/reports", None).await,
        401,
        "missing_token",
    )
    .await;
}
