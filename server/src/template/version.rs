//! Template versions: the `heat_template_version` dates, their aliases, and ordering; and
//! [`TemplateVersion`], which also covers the two CloudFormation-style formats.

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

/// The two CloudFormation-style template formats Heat accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CfnVersion {
    /// `HeatTemplateFormatVersion: 2012-12-12`: CFN functions, no conditions.
    Heat2012_12_12,
    /// `AWSTemplateFormatVersion: 2010-09-09`: CFN functions with `Conditions` and `Fn::If`.
    Aws2010_09_09,
}

/// Any template version Heat knows: a HOT date or one of the CFN formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateVersion {
    /// `heat_template_version: <date>`.
    Hot(HotVersion),
    /// `HeatTemplateFormatVersion` or `AWSTemplateFormatVersion`.
    Cfn(CfnVersion),
}

impl TemplateVersion {
    /// The HOT version, if this is a HOT template.
    pub fn hot(self) -> Option<HotVersion> {
        match self {
            TemplateVersion::Hot(v) => Some(v),
            TemplateVersion::Cfn(_) => None,
        }
    }

    /// The key that declares the version (`heat_template_version`).
    pub fn key(self) -> &'static str {
        match self {
            TemplateVersion::Hot(_) => "heat_template_version",
            TemplateVersion::Cfn(CfnVersion::Heat2012_12_12) => "HeatTemplateFormatVersion",
            TemplateVersion::Cfn(CfnVersion::Aws2010_09_09) => "AWSTemplateFormatVersion",
        }
    }

    /// The version value (`2013-05-23`).
    pub fn value(self) -> &'static str {
        match self {
            TemplateVersion::Hot(v) => v.date(),
            TemplateVersion::Cfn(CfnVersion::Heat2012_12_12) => "2012-12-12",
            TemplateVersion::Cfn(CfnVersion::Aws2010_09_09) => "2010-09-09",
        }
    }

    /// Whether this is a HOT version at or after `version`.
    pub fn hot_since(self, version: HotVersion) -> bool {
        self.hot().is_some_and(|v| v >= version)
    }
}

impl From<HotVersion> for TemplateVersion {
    fn from(v: HotVersion) -> Self {
        TemplateVersion::Hot(v)
    }
}

/// `heat_template_version.2016-10-14`, as Heat names versions in `GET /template_versions`.
impl fmt::Display for TemplateVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.key(), self.value())
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

    #[test]
    fn template_versions_name_their_family() {
        let hot = TemplateVersion::from(HotVersion::V2016_10_14);
        assert_eq!(hot.to_string(), "heat_template_version.2016-10-14");
        assert!(hot.hot_since(HotVersion::V2015_10_15));
        let aws = TemplateVersion::Cfn(CfnVersion::Aws2010_09_09);
        assert_eq!(aws.to_string(), "AWSTemplateFormatVersion.2010-09-09");
        assert!(!aws.hot_since(HotVersion::V2013_05_23));
        assert_eq!(
            TemplateVersion::Cfn(CfnVersion::Heat2012_12_12).key(),
            "HeatTemplateFormatVersion"
        );
    }
}
