//! Judging an uploaded CV from what S3 says about it and its first bytes. Pure: no I/O here.

use steward_core::domain::careers::CvType;

/// How many leading bytes are read to recognise a file (enough for the OLE directory of a .doc).
pub const SNIFF_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept(CvType),
    Reject(String),
}

/// Accepts only a non-empty file within the size limit whose content is one of the allowed
/// document types and is the type it was declared as.
pub fn judge(size: u64, max_bytes: u64, declared: Option<&str>, head: &[u8]) -> Verdict {
    if size == 0 {
        return Verdict::Reject("the file is empty".into());
    }
    if size > max_bytes {
        return Verdict::Reject(format!("the file is {size} bytes, more than the {max_bytes} allowed"));
    }
    let Some(actual) = sniff(head) else {
        let seen = infer::get(head).map_or("unrecognised content", |t| t.mime_type());
        return Verdict::Reject(format!("the content is not an allowed document type ({seen})"));
    };
    match declared.and_then(CvType::from_media_type) {
        Some(declared) if declared == actual => Verdict::Accept(actual),
        _ => Verdict::Reject(format!(
            "the content is {} but it was declared as {}",
            actual.media_type(),
            declared.unwrap_or("nothing")
        )),
    }
}

/// The document type the bytes really are, by their magic numbers.
pub fn sniff(head: &[u8]) -> Option<CvType> {
    if infer::doc::is_docx(head) || is_wordprocessing_package(head) {
        return Some(CvType::Docx);
    }
    if infer::doc::is_doc(head) {
        return Some(CvType::Doc);
    }
    if infer::odf::is_odt(head) {
        return Some(CvType::Odt);
    }
    if infer::archive::is_pdf(head) {
        return Some(CvType::Pdf);
    }
    if infer::archive::is_rtf(head) {
        return Some(CvType::Rtf);
    }
    None
}

/// `infer` recognises DOCX only when its ZIP entries come in Word's order; other writers put
/// them elsewhere. A ZIP whose entries include the main WordprocessingML part is a DOCX too.
fn is_wordprocessing_package(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") && head.windows(17).any(|w| w == b"word/document.xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00";

    #[test]
    fn a_pdf_declared_as_pdf_is_accepted() {
        assert_eq!(judge(PDF.len() as u64, 100, Some("application/pdf"), PDF), Verdict::Accept(CvType::Pdf));
    }

    #[test]
    fn an_executable_renamed_pdf_is_rejected() {
        assert!(
            matches!(judge(20, 100, Some("application/pdf"), ELF), Verdict::Reject(r) if r.contains("not an allowed"))
        );
    }

    #[test]
    fn empty_oversize_and_mislabelled_files_are_rejected() {
        assert!(
            matches!(judge(0, 100, Some("application/pdf"), b""), Verdict::Reject(r) if r.contains("empty"))
        );
        assert!(
            matches!(judge(101, 100, Some("application/pdf"), PDF), Verdict::Reject(r) if r.contains("more than"))
        );
        assert!(
            matches!(judge(60, 100, Some("application/msword"), PDF), Verdict::Reject(r) if r.contains("declared"))
        );
        assert!(matches!(judge(60, 100, None, PDF), Verdict::Reject(_)));
    }

    #[test]
    fn a_zip_with_the_word_main_part_is_a_docx_whatever_its_entry_order() {
        assert_eq!(sniff(b"PK\x03\x04....mimetype....word/document.xml...."), Some(CvType::Docx));
        assert_eq!(sniff(b"PK\x03\x04....other.xml...."), None);
    }

    #[test]
    fn rtf_is_recognised() {
        assert_eq!(sniff(b"{\\rtf1\\ansi Hello}"), Some(CvType::Rtf));
    }
}

#[cfg(test)]
mod fixture_tests {
    //! The sample files in `tests/fixtures/cv/`, the ones the black-box tests upload.
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../../tests/fixtures/cv/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn each_sample_document_is_recognised_as_what_it_is() {
        for (name, cv_type) in [
            ("cv.pdf", CvType::Pdf),
            ("cv.docx", CvType::Docx),
            ("cv.odt", CvType::Odt),
            ("cv.rtf", CvType::Rtf),
        ] {
            let bytes = fixture(name);
            assert_eq!(sniff(&bytes), Some(cv_type), "{name}");
            assert_eq!(
                judge(bytes.len() as u64, 1 << 20, Some(cv_type.media_type()), &bytes),
                Verdict::Accept(cv_type)
            );
        }
        assert_eq!(sniff(&fixture("program-renamed.pdf")), None);
    }
}
