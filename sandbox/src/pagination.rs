//! Page slicing and the pagination metadata of list responses, in every supported style.

use serde_json::{Map, Value, json};

use super::config::PaginationStyle;
use super::params::ListParams;
use super::query::encode_pairs;

/// Builds `{"data":[…], "meta":{…}, "links":{…}}` for one page of `rows`.
/// `link_base` is the absolute URL of the endpoint, without a query string.
pub(crate) fn page_response(
    rows: &[&Value],
    params: &ListParams,
    style: PaginationStyle,
    link_base: &str,
) -> Value {
    let total = rows.len() as u64;
    let per_page = params.per_page.max(1);
    let total_pages = total.div_ceil(per_page).max(1);
    let page = params.page.max(1);
    let has_next = page < total_pages;
    let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let data: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|row| (*row).clone())
        .collect();

    let link = |target: u64| {
        let mut pairs = params.echo.clone();
        pairs.push(("page".to_owned(), target.to_string()));
        Value::String(format!("{link_base}?{}", encode_pairs(&pairs)))
    };
    let next_link = if has_next {
        link(page + 1)
    } else {
        Value::Null
    };
    let prev_link = if page > 1 {
        link((page - 1).min(total_pages))
    } else {
        Value::Null
    };
    let next_page = if has_next {
        json!(page + 1)
    } else {
        Value::Null
    };

    let mut body = Map::new();
    body.insert("data".to_owned(), Value::Array(data));
    match style {
        PaginationStyle::Full => {
            body.insert(
                "meta".to_owned(),
                json!({
                    "current_page": page,
                    "page": page,
                    "per_page": per_page,
                    "total": total,
                    "total_pages": total_pages,
                    "last_page": total_pages,
                    "has_next": has_next,
                    "next_page": next_page,
                }),
            );
            body.insert(
                "links".to_owned(),
                json!({"next": next_link, "prev": prev_link}),
            );
        }
        PaginationStyle::HasNext => {
            body.insert(
                "meta".to_owned(),
                json!({"page": page, "has_next": has_next}),
            );
        }
        PaginationStyle::NextPage => {
            body.insert("meta".to_owned(), json!({"next_page": next_page}));
        }
        PaginationStyle::TotalPages => {
            body.insert(
                "meta".to_owned(),
                json!({"page": page, "total_pages": total_pages}),
            );
        }
        PaginationStyle::LinksOnly => {
            body.insert("links".to_owned(), json!({"next": next_link}));
        }
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::parse_list_params;

    fn rows(n: i64) -> Vec<Value> {
        (1..=n).map(|id| json!({"id": id})).collect()
    }

    #[test]
    fn full_style_pages() {
        let all = rows(45);
        let refs: Vec<&Value> = all.iter().collect();
        let q = vec![
            ("per_page".to_owned(), "20".to_owned()),
            ("page".to_owned(), "3".to_owned()),
        ];
        let params = parse_list_params(&q, "", true).expect("valid");
        let body = page_response(
            &refs,
            &params,
            PaginationStyle::Full,
            "http://h/api/rest/v1/orders",
        );
        assert_eq!(body["data"].as_array().map(Vec::len), Some(5));
        assert_eq!(body["meta"]["total_pages"], json!(3));
        assert_eq!(body["meta"]["has_next"], json!(false));
        assert_eq!(body["meta"]["next_page"], Value::Null);
        assert_eq!(body["links"]["next"], Value::Null);
        assert_eq!(
            body["links"]["prev"],
            json!("http://h/api/rest/v1/orders?per_page=20&page=2")
        );
    }

    #[test]
    fn other_styles_carry_one_signal() {
        let all = rows(45);
        let refs: Vec<&Value> = all.iter().collect();
        let params = parse_list_params(&[], "", true).expect("valid");
        let b = page_response(&refs, &params, PaginationStyle::HasNext, "u");
        assert_eq!(b["meta"], json!({"page": 1, "has_next": true}));
        assert!(b.get("links").is_none());
        let b = page_response(&refs, &params, PaginationStyle::NextPage, "u");
        assert_eq!(b["meta"], json!({"next_page": 2}));
        let b = page_response(&refs, &params, PaginationStyle::TotalPages, "u");
        assert_eq!(b["meta"], json!({"page": 1, "total_pages": 3}));
        let b = page_response(&refs, &params, PaginationStyle::LinksOnly, "u");
        assert_eq!(b["links"], json!({"next": "u?page=2"}));
        assert!(b.get("meta").is_none());
    }
}
