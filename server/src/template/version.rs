//! Template versions: the `heat_template_version` dates, their aliases, and ordering.

use std::fmt;

/// A HOT version, ordered by date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HotVersion {
    /// 2013-05-23
    V2013_05_23,
    /// 2014-10-16
    V2014_10_16,
    /// 2015-04-30
    V2015_04_30,
    /// 2015-10-15
    V2015_10_15,
    /// 2016-04-08
    V2016_04_08,
    /// 2016-10-14 (newton)
    V2016_10_14,
    /// 2017-02-24 (ocata)
    V2017_02_24,
    /// 2017-09-01 (pike)
    V2017_09_01,
    /// 2018-03-02 (queens)
    V2018_03_02,
    /// 2018-08-31 (rocky)
    V2018_08_31,
    /// 2021-04-16 (wallaby)
    V2021_04_16,
}

/// Every version with its date and alias.
pub const HOT_VERSIONS: &[(HotVersion, &str, Option<&str>)] = &[
    (HotVersion::V2013_05_23, "2013-05-23", None),
    (HotVersion::V2014_10_16, "2014-10-16", None),
    (HotVersion::V2015_04_30, "2015-04-30", None),
    (HotVersion::V2015_10_15, "2015-10-15", None),
    (HotVersion::V2016_04_08, "2016-04-08", None),
    (HotVersion::V2016_10_14, "2016-10-14", Some("newton")),
    (HotVersion::V2017_02_24, "2017-02-24", Some("ocata")),
    (HotVersion::V2017_09_01, "2017-09-01", Some("pike")),
    (HotVersion::V2018_03_02, "2018-03-02", Some("queens")),
    (HotVersion::V2018_08_31, "2018-08-31", Some("rocky")),
    (HotVersion::V2021_04_16, "2021-04-16", Some("wallaby")),
];

impl HotVersion {
    /// Parses a `heat_template_version` value: a date or an alias.
    pub fn parse(value: &str) -> Option<Self> {
        HOT_VERSIONS
            .iter()
            .find(|(_, date, alias)| *date == value || *alias == Some(value))
            .map(|(v, _, _)| *v)
    }

    /// The version's date.
    pub fn date(self) -> &'static str {
        HOT_VERSIONS
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("", |(_, d, _)| d)
    }

    /// The valid values, as Heat lists them in `InvalidTemplateVersion`.
    pub fn valid_values() -> String {
        HOT_VERSIONS
            .iter()
            .map(|(_, d, _)| format!("\"heat_template_version.{d}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for HotVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.date())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_aliases_parse() {
        assert_eq!(
            HotVersion::parse("2013-05-23"),
            Some(HotVersion::V2013_05_23)
        );
        assert_eq!(HotVersion::parse("wallaby"), Some(HotVersion::V2021_04_16));
        assert_eq!(HotVersion::parse("rocky"), HotVersion::parse("2018-08-31"));
        assert_eq!(HotVersion::parse("2019-01-01"), None);
        assert!(HotVersion::V2015_10_15 > HotVersion::V2015_04_30);
    }
}
