//! Render stage: the `has_more` filter — does a list answer say another page follows?
use minijinja::Value;

/// Whether a list answer says another page follows, by the common conventions:
/// `meta.has_next`, `meta.next_page`, `meta.page`/`current_page` below
/// `total_pages`/`last_page`, or `links.next`; an empty `data` list means no.
pub fn has_more(v: &Value) -> bool {
    let get = |v: &Value, k: &str| {
        v.get_attr(k)
            .ok()
            .filter(|x| !x.is_undefined() && !x.is_none())
    };
    if let Some(data) = get(v, "data") {
        if data.len() == Some(0) {
            return false;
        }
    }
    if let Some(meta) = get(v, "meta") {
        if let Some(h) = get(&meta, "has_next") {
            return h.is_true();
        }
        if let Some(n) = get(&meta, "next_page") {
            return n.is_true();
        }
        let page = get(&meta, "current_page")
            .or_else(|| get(&meta, "page"))
            .and_then(|p| p.as_i64());
        let last = get(&meta, "total_pages")
            .or_else(|| get(&meta, "last_page"))
            .and_then(|p| p.as_i64());
        if let (Some(p), Some(l)) = (page, last) {
            return p < l;
        }
    }
    if let Some(links) = get(v, "links") {
        return get(&links, "next").is_some();
    }
    false
}
