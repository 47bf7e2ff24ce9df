//! Run stage: an HTTP step's request rendered from its plan — URL parts joined, query,
//! headers, a JSON, text or form body — with the JSON views `steps.<id>.request` shows.
use minijinja::Value;

use crate::exec::ResolvedRequest;
use crate::plan::HttpPlan;
use crate::template::Templates;

/// A rendered request plus its JSON views.
pub(crate) struct Rendered {
    pub(crate) req: ResolvedRequest,
    pub(super) query_json: serde_json::Map<String, serde_json::Value>,
    pub(crate) json: Option<serde_json::Value>,
    pub(super) form: Option<serde_json::Map<String, serde_json::Value>>,
}

pub(crate) fn render(plan: &HttpPlan, t: &Templates, ctx: &Value) -> Result<Rendered, String> {
    let mut url = String::new();
    for (i, part) in plan.url.iter().enumerate() {
        let s = t.render_string(part, ctx).map_err(|e| e.message)?;
        if i > 0 && url.ends_with('/') && s.starts_with('/') {
            url.push_str(&s[1..]);
        } else if i > 0 && !url.ends_with('/') && !s.starts_with('/') && !s.is_empty() {
            url.push('/');
            url.push_str(&s);
        } else {
            url.push_str(&s);
        }
    }
    let mut query = Vec::new();
    let mut query_json = serde_json::Map::new();
    for (k, c) in &plan.query {
        let v = c
            .render(t, ctx)
            .map_err(|e| format!("query `{k}`: {}", e.message))?;
        if v.is_null() {
            continue;
        }
        query.push((k.clone(), query_text(&v)));
        query_json.insert(k.clone(), v);
    }
    let mut headers = Vec::new();
    for (k, c) in &plan.headers {
        headers.push((
            k.clone(),
            t.render_string(c, ctx)
                .map_err(|e| format!("header `{k}`: {}", e.message))?,
        ));
    }
    let mut form = None;
    let json = match &plan.json {
        Some(j) => Some(
            j.render(t, ctx)
                .map_err(|e| format!("json body: {}", e.message))?,
        ),
        None => None,
    };
    let body = match (&json, &plan.body) {
        (Some(j), _) => {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(j.to_string())
        }
        (None, Some(b)) => Some(
            t.render_string(b, ctx)
                .map_err(|e| format!("body: {}", e.message))?,
        ),
        (None, None) => match &plan.form {
            Some(pairs) => {
                let (text, map) = render_form(pairs, t, ctx)?;
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    headers.push((
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ));
                }
                form = Some(map);
                Some(text)
            }
            None => None,
        },
    };
    Ok(Rendered {
        req: ResolvedRequest {
            method: plan.method.clone(),
            url,
            query,
            headers,
            body,
            timeout: plan.timeout,
        },
        query_json,
        json,
        form,
    })
}

/// A form body: its pairs rendered (null left out), URL-encoded as browsers do
/// (`application/x-www-form-urlencoded`, spaces as `+`), and its values for
/// `request.form`.
fn render_form(
    pairs: &[(String, crate::template::CompiledJson)],
    t: &Templates,
    ctx: &Value,
) -> Result<(String, serde_json::Map<String, serde_json::Value>), String> {
    let mut map = serde_json::Map::new();
    // The URL crate's query serializer is the form serializer.
    let mut url = reqwest::Url::parse("http://form.invalid/").map_err(|e| e.to_string())?;
    {
        let mut enc = url.query_pairs_mut();
        for (k, c) in pairs {
            let v = c
                .render(t, ctx)
                .map_err(|e| format!("form `{k}`: {}", e.message))?;
            if v.is_null() {
                continue;
            }
            enc.append_pair(k, &query_text(&v));
            map.insert(k.clone(), v);
        }
    }
    Ok((url.query().unwrap_or("").to_string(), map))
}

/// A query value as sent: strings as they are, everything else as JSON.
fn query_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
