use super::*;

/// The text of each single-document piece, and whether it is a JSON value.
fn texts(t: &str) -> Vec<(&str, bool)> {
    let mut at = 0;
    pieces(t)
        .into_iter()
        .map(|p| {
            at += p.extent.len;
            (&t[at - p.extent.len..at], p.json)
        })
        .collect()
}

fn yaml(t: &str) -> Vec<&str> {
    let all = texts(t);
    assert!(all.iter().all(|(_, json)| !json), "{all:?}");
    all.into_iter().map(|(t, _)| t).collect()
}

#[test]
fn small_documents_are_grouped_and_big_ones_alone() {
    let small = "---\na: 1\n".repeat(500);
    let chunks = split(&small);
    assert_eq!(chunks.len(), 3, "500 tiny documents in groups of {MAX_DOCS}");
    assert_eq!(chunks.iter().map(|c| c.text.as_ref()).collect::<String>(), small);
    assert_eq!(chunks[1].line, 2 * MAX_DOCS + 1);
    let big = format!("---\nbig: {}\n---\nb: 2\n", "x".repeat(MIN_BYTES));
    assert_eq!(split(&big).len(), 2);
}

#[test]
fn cuts_before_each_document_start_keeping_leading_comments() {
    let t = "# head\n---\na: 1\n# about b\n---\nb: |\n  --- not a marker\n...\n# tail\n";
    assert_eq!(yaml(t), ["# head\n---\na: 1\n# about b\n", "---\nb: |\n  --- not a marker\n...\n", "# tail\n"]);
    let lines: Vec<usize> = split(t).iter().map(|c| c.line).collect();
    assert_eq!(lines, [1], "small documents share a chunk");
    assert_eq!(yaml(t).concat(), t);
}

#[test]
fn directives_stay_with_their_document() {
    let t = "a: 1\n...\n%YAML 1.2\n---\nb: 2\n---text\n";
    assert_eq!(yaml(t), ["a: 1\n...\n", "%YAML 1.2\n---\nb: 2\n---text\n"]);
}

#[test]
fn an_implicit_first_document_and_crlf() {
    let t = "a: 1\r\n--- \r\nb: 2";
    assert_eq!(yaml(t), ["a: 1\r\n", "--- \r\nb: 2"]);
}

#[test]
fn concatenated_json_is_cut_after_each_value() {
    // `jq -c`: a value a line; the white space between stays with the value before.
    let t = "{\"a\": 1}\n\n{\"b\": [1, {\"c\": \"}{\"}]}\n  {\"d\": 2}\n";
    assert_eq!(
        texts(t),
        [("{\"a\": 1}\n\n", true), ("{\"b\": [1, {\"c\": \"}{\"}]}\n", true), ("  {\"d\": 2}\n", true)]
    );
    // Values that share a line are cut where the next starts.
    let t = "{\"a\":\"x\\\"}\"}{\"b\":2} {\"c\":3}";
    assert_eq!(texts(t), [("{\"a\":\"x\\\"}\"}", true), ("{\"b\":2} ", true), ("{\"c\":3}", true)]);
    // A value over several lines, CRLF.
    let t = "{\r\n  \"a\": {\r\n    \"b\": 1\r\n  }\r\n}\r\n{\r\n}\r\n";
    assert_eq!(texts(t), [("{\r\n  \"a\": {\r\n    \"b\": 1\r\n  }\r\n}\r\n", true), ("{\r\n}\r\n", true)]);
}

#[test]
fn values_that_share_a_line_give_chunks_their_column() {
    // Each value alone in its chunk: a big one between two small ones.
    let big = format!("{{\"big\": \"{}\"}}", "é".repeat(MIN_BYTES));
    let t = format!("{{\"a\": 1}}\n  {{\"b\": 2}}{big} {{\"c\": 3}}\n");
    let chunks = split(&t);
    let starts: Vec<(usize, usize, bool)> = chunks.iter().map(|c| (c.line, c.col, c.json)).collect();
    assert_eq!(starts, [(1, 1, true), (2, MIN_BYTES + 23, true)]);
    assert_eq!(chunks[0].text, format!("{{\"a\": 1}}\n  {{\"b\": 2}}{big} "));
    assert_eq!(values(&chunks[0].text).len(), 3);
    // Read back as a reader reads them, the same.
    let read: Vec<Chunk> = ReaderChunks::new(t.as_bytes(), "t").map(|c| c.expect("chunk")).collect();
    assert_eq!(read, owned(split(&t)));
}

#[test]
fn a_json_stream_turns_yaml_at_its_first_marker_and_stays_yaml() {
    let t = "{\"a\": 1}\n---\nb: {c: 1}\nd: [2]\n---\n{\"e\": 1}\n{\"f\": 2}\n";
    assert_eq!(
        texts(t),
        [("{\"a\": 1}\n", true), ("---\nb: {c: 1}\nd: [2]\n", false), ("---\n{\"e\": 1}\n{\"f\": 2}\n", false)]
    );
    let t = "{\"a\": 1}\n...\n{\"b\": 1}\n";
    assert_eq!(texts(t), [("{\"a\": 1}\n...\n", false), ("{\"b\": 1}\n", false)]);
    // Values and other chunks are not grouped together.
    let kinds: Vec<bool> = split("{\"a\": 1}\n{\"b\": 1}\n---\nc: 1\n").iter().map(|c| c.json).collect();
    assert_eq!(kinds, [true, false]);
}

#[test]
fn what_is_no_value_ends_the_json_stream_where_it_stands() {
    // kubectl's JSON decoder fails on `x`; so does this piece, read as YAML.
    assert_eq!(texts("{\"a\": 1}\nx: 1\n{\"b\": 1}\n"), [("{\"a\": 1}\nx: 1\n{\"b\": 1}\n", false)]);
    assert_eq!(texts("{\"a\": 1} [1]\n"), [("{\"a\": 1} ", true), ("[1]\n", true)]);
}

#[test]
fn a_stream_is_json_when_its_first_character_is_an_opening_brace() {
    assert!(texts("\u{feff}\n \t{\"a\": 1}{\"b\": 1}").iter().all(|(_, json)| *json));
    assert_eq!(texts("\u{feff}{\"a\": 1}{\"b\": 1}")[0].0, "\u{feff}{\"a\": 1}");
    // YAML flow style that starts the stream is cut where YAML would end it.
    assert_eq!(texts("{a: '}{', b: 1} # {\n{c: 1}\n"), [("{a: '}{', b: 1} # {\n", true), ("{c: 1}\n", true)]);
    // Anything else first: YAML.
    assert_eq!(yaml("# c\n{\"a\": 1}\n"), ["# c\n{\"a\": 1}\n"]);
    assert_eq!(yaml("[1]\n[2]\n"), ["[1]\n[2]\n"]);
}

fn owned(chunks: Vec<Chunk>) -> Vec<Chunk<'static>> {
    chunks.into_iter().map(|c| Chunk { text: Cow::Owned(c.text.into_owned()), ..c }).collect()
}

#[test]
fn a_reader_gives_the_same_chunks_as_the_text() {
    let t = "# head\n---\na: 1\n...\n%YAML 1.2\n---\nb: 2\n---\nc: 3";
    let from_reader: Vec<Chunk> = ReaderChunks::new(t.as_bytes(), "t").map(|c| c.expect("chunk")).collect();
    assert_eq!(from_reader, owned(split(t)));
}

#[test]
fn a_long_line_of_many_values_is_read_in_chunks() {
    // 100 characters a value: the line is longer than the buffer keeps.
    let t = format!("{{\"a\":\"{}\"}}", "x".repeat(92)).repeat(10 * MAX_DOCS);
    let read: Vec<Chunk> = ReaderChunks::new(t.as_bytes(), "t").map(|c| c.expect("chunk")).collect();
    assert_eq!(read.len(), 10);
    assert_eq!(read[3].col, 3 * MAX_DOCS * 100 + 1);
    assert_eq!(read, owned(split(&t)));
}

#[test]
fn invalid_utf8_is_reported_at_its_line() {
    let bytes = b"a: 1\n---\nb: \xff\n";
    let err = ReaderChunks::new(&bytes[..], "t").find_map(Result::err).expect("error");
    assert_eq!(err.to_string(), "t:3:4: the input is not valid UTF-8");
    // And at its column, where a chunk starts mid-line.
    let mut bytes = "{\"a\":1}".repeat(MAX_DOCS).into_bytes();
    bytes.extend_from_slice(b"{\"b\":\"\xff\"}");
    let err = ReaderChunks::new(&bytes[..], "t").find_map(Result::err).expect("error");
    assert_eq!(err.to_string(), format!("t:1:{}: the input is not valid UTF-8", MAX_DOCS * 7 + 7));
}
