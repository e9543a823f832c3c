//! Bugs the `import_csv` fuzz target found (docs/fuzzing.md), one test each, starting with the
//! story of the bug. The inputs are in `fuzz/corpus/import_csv/`.

use plaint_domain::Command;
use plaint_import::{plan_csv, AnomalyKind, Mapping};

/// The story: a Baltimore 311 row whose DueDate cell read `10/14/-014 04:09:22 PM` was
/// imported with a recorded resolution deadline in the year -14. chrono's `%Y` reads a signed
/// year of any length, so the cell parsed; the deadline then went into a Classify command that
/// plaint's own JSON could not read back (`-0014-10-14T21:05:24Z` is not RFC 3339), so the
/// planned history could not be exported and re-imported. A year outside 0000-9999 is now an
/// unparsable date, reported as an anomaly like any other.
#[test]
fn a_date_outside_years_0000_to_9999_is_unparsable() {
    let mapping = Mapping::from_toml_str(include_str!("../../../examples/mappings/baltimore311.toml")).unwrap();
    let header = "SRRecordID,ServiceRequestNum,SRType,MethodReceived,CreatedDate,SRStatus,StatusDate,DueDate,\
                  CloseDate,Agency,LastActivity,LastActivityDate,Outcome,Address,ZipCode,Neighborhood,\
                  CouncilDistrict,PoliceDistrict,PolicePost,Latitude,Longitude,GeoLocation,\
                  2010 Census Wards Precincts,2010 Census Neighborhoods,Zip Codes,DaysOpen";
    for due in ["10/14/-014 04:09:22 PM", "10/14/+12014 04:09:22 PM"] {
        let row = format!(
            "14-00771937,14-00771937,TRS-Parking Complaint,API,10/13/2014 04:09:22 PM,Closed,\
             10/14/2014 05:38:50 AM,{due},10/14/2014 05:38:49 AM,Transportation,,,,\
             \"1100 S CHARLES ST, BALTIMORE CITY, MD, 21230\",21230,Federal Hill,11,Southern,942,\
             39.276814,-76.614368,\"(39.276814, -76.614368)\",175,,,1"
        );
        let plan = plan_csv(&mapping, format!("{header}\n{row}\n").as_bytes()).unwrap();
        assert!(
            plan.anomalies.iter().any(|a| a.kind == AnomalyKind::UnparsableDue),
            "{due}: {:?}",
            plan.anomalies
        );
        for c in plan.tickets.iter().flat_map(|t| &t.commands) {
            let json = serde_json::to_string(c).unwrap();
            let back: Command = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{due}: {e}\n{json}"));
            assert_eq!(&back, c);
        }
    }
}
