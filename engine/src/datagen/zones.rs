//! The 265 taxi zones: the lookup table as the TLC publishes it (written to
//! `taxi_zone_lookup.csv`), and how busy each zone is as a pickup or
//! dropoff place for each kind of trip.

use std::path::{Path, PathBuf};

use super::{write_atomically, Dataset};
use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Borough {
    Ewr,
    Queens,
    Bronx,
    Manhattan,
    StatenIsland,
    Brooklyn,
    Unknown,
}

impl Borough {
    pub(crate) const COUNT: usize = 7;

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            Borough::Ewr => "EWR",
            Borough::Queens => "Queens",
            Borough::Bronx => "Bronx",
            Borough::Manhattan => "Manhattan",
            Borough::StatenIsland => "Staten Island",
            Borough::Brooklyn => "Brooklyn",
            Borough::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServiceZone {
    Ewr,
    BoroZone,
    YellowZone,
    Airports,
    NotApplicable,
}

impl ServiceZone {
    fn name(self) -> &'static str {
        match self {
            ServiceZone::Ewr => "EWR",
            ServiceZone::BoroZone => "Boro Zone",
            ServiceZone::YellowZone => "Yellow Zone",
            ServiceZone::Airports => "Airports",
            ServiceZone::NotApplicable => "N/A",
        }
    }
}

/// Location ids run 1..=ZONE_COUNT; `ZONES[id - 1]` describes zone `id`.
pub(crate) const ZONE_COUNT: usize = 265;

pub(crate) const JFK: u16 = 132;
pub(crate) const NEWARK: u16 = 1;

pub(crate) fn borough(id: u16) -> Borough {
    ZONES[usize::from(id) - 1].0
}

pub(crate) fn service_zone(id: u16) -> ServiceZone {
    ZONES[usize::from(id) - 1].2
}

pub(crate) fn is_airport(id: u16) -> bool {
    matches!(service_zone(id), ServiceZone::Airports | ServiceZone::Ewr)
}

const E: Borough = Borough::Ewr;
const Q: Borough = Borough::Queens;
const BX: Borough = Borough::Bronx;
const MN: Borough = Borough::Manhattan;
const SI: Borough = Borough::StatenIsland;
const BK: Borough = Borough::Brooklyn;
const UNK: Borough = Borough::Unknown;
const BZ: ServiceZone = ServiceZone::BoroZone;
const YZ: ServiceZone = ServiceZone::YellowZone;
const AP: ServiceZone = ServiceZone::Airports;
const NA: ServiceZone = ServiceZone::NotApplicable;

pub(crate) static ZONES: [(Borough, &str, ServiceZone); ZONE_COUNT] = [
    (E, "Newark Airport", ServiceZone::Ewr),
    (Q, "Jamaica Bay", BZ),
    (BX, "Allerton/Pelham Gardens", BZ),
    (MN, "Alphabet City", YZ),
    (SI, "Arden Heights", BZ),
    (SI, "Arrochar/Fort Wadsworth", BZ),
    (Q, "Astoria", BZ),
    (Q, "Astoria Park", BZ),
    (Q, "Auburndale", BZ),
    (Q, "Baisley Park", BZ),
    (BK, "Bath Beach", BZ),
    (MN, "Battery Park", YZ),
    (MN, "Battery Park City", YZ),
    (BK, "Bay Ridge", BZ),
    (Q, "Bay Terrace/Fort Totten", BZ),
    (Q, "Bayside", BZ),
    (BK, "Bedford", BZ),
    (BX, "Bedford Park", BZ),
    (Q, "Bellerose", BZ),
    (BX, "Belmont", BZ),
    (BK, "Bensonhurst East", BZ),
    (BK, "Bensonhurst West", BZ),
    (SI, "Bloomfield/Emerson Hill", BZ),
    (MN, "Bloomingdale", YZ),
    (BK, "Boerum Hill", BZ),
    (BK, "Borough Park", BZ),
    (Q, "Breezy Point/Fort Tilden/Riis Beach", BZ),
    (Q, "Briarwood/Jamaica Hills", BZ),
    (BK, "Brighton Beach", BZ),
    (Q, "Broad Channel", BZ),
    (BX, "Bronx Park", BZ),
    (BX, "Bronxdale", BZ),
    (BK, "Brooklyn Heights", BZ),
    (BK, "Brooklyn Navy Yard", BZ),
    (BK, "Brownsville", BZ),
    (BK, "Bushwick North", BZ),
    (BK, "Bushwick South", BZ),
    (Q, "Cambria Heights", BZ),
    (BK, "Canarsie", BZ),
    (BK, "Carroll Gardens", BZ),
    (MN, "Central Harlem", BZ),
    (MN, "Central Harlem North", BZ),
    (MN, "Central Park", YZ),
    (SI, "Charleston/Tottenville", BZ),
    (MN, "Chinatown", YZ),
    (BX, "City Island", BZ),
    (BX, "Claremont/Bathgate", BZ),
    (MN, "Clinton East", YZ),
    (BK, "Clinton Hill", BZ),
    (MN, "Clinton West", YZ),
    (BX, "Co-Op City", BZ),
    (BK, "Cobble Hill", BZ),
    (Q, "College Point", BZ),
    (BK, "Columbia Street", BZ),
    (BK, "Coney Island", BZ),
    (Q, "Corona", BZ),
    (Q, "Corona", BZ),
    (BX, "Country Club", BZ),
    (BX, "Crotona Park", BZ),
    (BX, "Crotona Park East", BZ),
    (BK, "Crown Heights North", BZ),
    (BK, "Crown Heights South", BZ),
    (BK, "Cypress Hills", BZ),
    (Q, "Douglaston", BZ),
    (BK, "Downtown Brooklyn/MetroTech", BZ),
    (BK, "DUMBO/Vinegar Hill", BZ),
    (BK, "Dyker Heights", BZ),
    (MN, "East Chelsea", YZ),
    (BX, "East Concourse/Concourse Village", BZ),
    (Q, "East Elmhurst", BZ),
    (BK, "East Flatbush/Farragut", BZ),
    (BK, "East Flatbush/Remsen Village", BZ),
    (Q, "East Flushing", BZ),
    (MN, "East Harlem North", BZ),
    (MN, "East Harlem South", BZ),
    (BK, "East New York", BZ),
    (BK, "East New York/Pennsylvania Avenue", BZ),
    (BX, "East Tremont", BZ),
    (MN, "East Village", YZ),
    (BK, "East Williamsburg", BZ),
    (BX, "Eastchester", BZ),
    (Q, "Elmhurst", BZ),
    (Q, "Elmhurst/Maspeth", BZ),
    (SI, "Eltingville/Annadale/Prince's Bay", BZ),
    (BK, "Erasmus", BZ),
    (Q, "Far Rockaway", BZ),
    (MN, "Financial District North", YZ),
    (MN, "Financial District South", YZ),
    (BK, "Flatbush/Ditmas Park", BZ),
    (MN, "Flatiron", YZ),
    (BK, "Flatlands", BZ),
    (Q, "Flushing", BZ),
    (Q, "Flushing Meadows-Corona Park", BZ),
    (BX, "Fordham South", BZ),
    (Q, "Forest Hills", BZ),
    (Q, "Forest Park/Highland Park", BZ),
    (BK, "Fort Greene", BZ),
    (Q, "Fresh Meadows", BZ),
    (SI, "Freshkills Park", BZ),
    (MN, "Garment District", YZ),
    (Q, "Glen Oaks", BZ),
    (Q, "Glendale", BZ),
    (MN, "Governor's Island/Ellis Island/Liberty Island", YZ),
    (MN, "Governor's Island/Ellis Island/Liberty Island", YZ),
    (MN, "Governor's Island/Ellis Island/Liberty Island", YZ),
    (BK, "Gowanus", BZ),
    (MN, "Gramercy", YZ),
    (BK, "Gravesend", BZ),
    (SI, "Great Kills", BZ),
    (SI, "Great Kills Park", BZ),
    (BK, "Green-Wood Cemetery", BZ),
    (BK, "Greenpoint", BZ),
    (MN, "Greenwich Village North", YZ),
    (MN, "Greenwich Village South", YZ),
    (SI, "Grymes Hill/Clifton", BZ),
    (MN, "Hamilton Heights", BZ),
    (Q, "Hammels/Arverne", BZ),
    (SI, "Heartland Village/Todt Hill", BZ),
    (BX, "Highbridge", BZ),
    (MN, "Highbridge Park", BZ),
    (Q, "Hillcrest/Pomonok", BZ),
    (Q, "Hollis", BZ),
    (BK, "Homecrest", BZ),
    (Q, "Howard Beach", BZ),
    (MN, "Hudson Sq", YZ),
    (BX, "Hunts Point", BZ),
    (MN, "Inwood", BZ),
    (MN, "Inwood Hill Park", BZ),
    (Q, "Jackson Heights", BZ),
    (Q, "Jamaica", BZ),
    (Q, "Jamaica Estates", BZ),
    (Q, "JFK Airport", AP),
    (BK, "Kensington", BZ),
    (Q, "Kew Gardens", BZ),
    (Q, "Kew Gardens Hills", BZ),
    (BX, "Kingsbridge Heights", BZ),
    (MN, "Kips Bay", YZ),
    (Q, "LaGuardia Airport", AP),
    (Q, "Laurelton", BZ),
    (MN, "Lenox Hill East", YZ),
    (MN, "Lenox Hill West", YZ),
    (MN, "Lincoln Square East", YZ),
    (MN, "Lincoln Square West", YZ),
    (MN, "Little Italy/NoLiTa", YZ),
    (Q, "Long Island City/Hunters Point", BZ),
    (Q, "Long Island City/Queens Plaza", BZ),
    (BX, "Longwood", BZ),
    (MN, "Lower East Side", YZ),
    (BK, "Madison", BZ),
    (BK, "Manhattan Beach", BZ),
    (MN, "Manhattan Valley", YZ),
    (MN, "Manhattanville", BZ),
    (MN, "Marble Hill", BZ),
    (BK, "Marine Park/Floyd Bennett Field", BZ),
    (BK, "Marine Park/Mill Basin", BZ),
    (SI, "Mariners Harbor", BZ),
    (Q, "Maspeth", BZ),
    (MN, "Meatpacking/West Village West", YZ),
    (BX, "Melrose South", BZ),
    (Q, "Middle Village", BZ),
    (MN, "Midtown Center", YZ),
    (MN, "Midtown East", YZ),
    (MN, "Midtown North", YZ),
    (MN, "Midtown South", YZ),
    (BK, "Midwood", BZ),
    (MN, "Morningside Heights", BZ),
    (BX, "Morrisania/Melrose", BZ),
    (BX, "Mott Haven/Port Morris", BZ),
    (BX, "Mount Hope", BZ),
    (MN, "Murray Hill", YZ),
    (Q, "Murray Hill-Queens", BZ),
    (SI, "New Dorp/Midland Beach", BZ),
    (Q, "North Corona", BZ),
    (BX, "Norwood", BZ),
    (Q, "Oakland Gardens", BZ),
    (SI, "Oakwood", BZ),
    (BK, "Ocean Hill", BZ),
    (BK, "Ocean Parkway South", BZ),
    (Q, "Old Astoria", BZ),
    (Q, "Ozone Park", BZ),
    (BK, "Park Slope", BZ),
    (BX, "Parkchester", BZ),
    (BX, "Pelham Bay", BZ),
    (BX, "Pelham Bay Park", BZ),
    (BX, "Pelham Parkway", BZ),
    (MN, "Penn Station/Madison Sq West", YZ),
    (SI, "Port Richmond", BZ),
    (BK, "Prospect-Lefferts Gardens", BZ),
    (BK, "Prospect Heights", BZ),
    (BK, "Prospect Park", BZ),
    (Q, "Queens Village", BZ),
    (Q, "Queensboro Hill", BZ),
    (Q, "Queensbridge/Ravenswood", BZ),
    (MN, "Randalls Island", YZ),
    (BK, "Red Hook", BZ),
    (Q, "Rego Park", BZ),
    (Q, "Richmond Hill", BZ),
    (Q, "Ridgewood", BZ),
    (BX, "Rikers Island", BZ),
    (BX, "Riverdale/North Riverdale/Fieldston", BZ),
    (Q, "Rockaway Park", BZ),
    (MN, "Roosevelt Island", BZ),
    (Q, "Rosedale", BZ),
    (SI, "Rossville/Woodrow", BZ),
    (Q, "Saint Albans", BZ),
    (SI, "Saint George/New Brighton", BZ),
    (Q, "Saint Michaels Cemetery/Woodside", BZ),
    (BX, "Schuylerville/Edgewater Park", BZ),
    (MN, "Seaport", YZ),
    (BK, "Sheepshead Bay", BZ),
    (MN, "SoHo", YZ),
    (BX, "Soundview/Bruckner", BZ),
    (BX, "Soundview/Castle Hill", BZ),
    (SI, "South Beach/Dongan Hills", BZ),
    (Q, "South Jamaica", BZ),
    (Q, "South Ozone Park", BZ),
    (BK, "South Williamsburg", BZ),
    (Q, "Springfield Gardens North", BZ),
    (Q, "Springfield Gardens South", BZ),
    (BX, "Spuyten Duyvil/Kingsbridge", BZ),
    (SI, "Stapleton", BZ),
    (BK, "Starrett City", BZ),
    (Q, "Steinway", BZ),
    (MN, "Stuy Town/Peter Cooper Village", YZ),
    (BK, "Stuyvesant Heights", BZ),
    (Q, "Sunnyside", BZ),
    (BK, "Sunset Park East", BZ),
    (BK, "Sunset Park West", BZ),
    (MN, "Sutton Place/Turtle Bay North", YZ),
    (MN, "Times Sq/Theatre District", YZ),
    (MN, "TriBeCa/Civic Center", YZ),
    (MN, "Two Bridges/Seward Park", YZ),
    (MN, "UN/Turtle Bay South", YZ),
    (MN, "Union Sq", YZ),
    (BX, "University Heights/Morris Heights", BZ),
    (MN, "Upper East Side North", YZ),
    (MN, "Upper East Side South", YZ),
    (MN, "Upper West Side North", YZ),
    (MN, "Upper West Side South", YZ),
    (BX, "Van Cortlandt Park", BZ),
    (BX, "Van Cortlandt Village", BZ),
    (BX, "Van Nest/Morris Park", BZ),
    (MN, "Washington Heights North", BZ),
    (MN, "Washington Heights South", BZ),
    (SI, "West Brighton", BZ),
    (MN, "West Chelsea/Hudson Yards", YZ),
    (BX, "West Concourse", BZ),
    (BX, "West Farms/Bronx River", BZ),
    (MN, "West Village", YZ),
    (BX, "Westchester Village/Unionport", BZ),
    (SI, "Westerleigh", BZ),
    (Q, "Whitestone", BZ),
    (Q, "Willets Point", BZ),
    (BX, "Williamsbridge/Olinville", BZ),
    (BK, "Williamsburg (North Side)", BZ),
    (BK, "Williamsburg (South Side)", BZ),
    (BK, "Windsor Terrace", BZ),
    (Q, "Woodhaven", BZ),
    (BX, "Woodlawn/Wakefield", BZ),
    (Q, "Woodside", BZ),
    (MN, "World Trade Center", YZ),
    (MN, "Yorkville East", YZ),
    (MN, "Yorkville West", YZ),
    (UNK, "NV", NA),
    (UNK, "NA", NA),
];

/// The lookup file's name under the data root.
pub const ZONES_FILE: &str = "taxi_zone_lookup.csv";

/// Writes `root/taxi_zone_lookup.csv` (creating `root`) as the TLC
/// publishes it: a quoted header, 265 rows, CRLF line ends, every value
/// quoted but the id. Returns the file's path.
pub fn write_zones(root: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(root).map_err(|e| EngineError::io(root.display().to_string(), e))?;
    let path = root.join(ZONES_FILE);
    write_atomically(&path, |out| {
        use std::io::Write;
        out.write_all(b"\"LocationID\",\"Borough\",\"Zone\",\"service_zone\"\r\n")?;
        for (index, (borough, zone, service)) in ZONES.iter().enumerate() {
            write!(
                out,
                "{},\"{}\",\"{}\",\"{}\"\r\n",
                index + 1,
                borough.name(),
                zone,
                service.name()
            )?;
        }
        Ok(())
    })?;
    Ok(path)
}

/// Which end of a trip a zone weight is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Pickup,
    Dropoff,
}

/// The busiest yellow-cab zones, roughly in the real data's order.
const YELLOW_BUSY: &[(u16, f64)] = &[
    (237, 100.0),
    (236, 95.0),
    (161, 92.0),
    (132, 80.0),
    (186, 75.0),
    (162, 74.0),
    (142, 70.0),
    (170, 68.0),
    (239, 66.0),
    (141, 64.0),
    (230, 62.0),
    (48, 60.0),
    (138, 55.0),
    (234, 55.0),
    (68, 52.0),
    (163, 50.0),
    (79, 50.0),
    (263, 46.0),
    (238, 44.0),
    (107, 44.0),
    (140, 42.0),
    (249, 40.0),
    (164, 40.0),
    (229, 38.0),
    (43, 34.0),
    (262, 32.0),
    (246, 32.0),
    (90, 32.0),
    (100, 30.0),
    (113, 30.0),
    (137, 30.0),
    (233, 28.0),
    (151, 26.0),
    (158, 24.0),
    (75, 22.0),
    (114, 22.0),
    (231, 22.0),
    (24, 18.0),
    (74, 16.0),
    (87, 16.0),
    (148, 16.0),
    (41, 14.0),
    (211, 14.0),
    (166, 12.0),
    (144, 12.0),
    (50, 12.0),
    (125, 10.0),
    (13, 10.0),
    (261, 8.0),
    (4, 8.0),
    (88, 6.0),
    (45, 6.0),
    (209, 5.0),
    (224, 5.0),
    (232, 4.0),
    (264, 3.0),
    (12, 2.0),
];

/// The busiest green-cab (boro taxi) zones.
const GREEN_BUSY: &[(u16, f64)] = &[
    (74, 100.0),
    (75, 80.0),
    (41, 62.0),
    (166, 45.0),
    (95, 36.0),
    (97, 32.0),
    (82, 30.0),
    (7, 30.0),
    (42, 28.0),
    (244, 26.0),
    (65, 26.0),
    (129, 25.0),
    (181, 18.0),
    (260, 18.0),
    (116, 16.0),
    (152, 15.0),
    (243, 14.0),
    (130, 13.0),
    (25, 12.0),
    (33, 12.0),
    (61, 12.0),
    (226, 10.0),
    (92, 10.0),
    (179, 10.0),
    (145, 10.0),
    (146, 10.0),
    (255, 10.0),
    (256, 8.0),
    (223, 8.0),
    (17, 8.0),
    (49, 8.0),
    (52, 8.0),
    (40, 8.0),
    (66, 8.0),
    (112, 8.0),
    (196, 8.0),
    (173, 8.0),
    (264, 8.0),
];

/// The busiest high-volume for-hire zones: spread over all five boroughs.
const FHVHV_BUSY: &[(u16, f64)] = &[
    (61, 100.0),
    (76, 95.0),
    (132, 95.0),
    (138, 85.0),
    (79, 80.0),
    (37, 75.0),
    (230, 72.0),
    (42, 70.0),
    (225, 68.0),
    (7, 66.0),
    (148, 64.0),
    (244, 62.0),
    (17, 60.0),
    (188, 58.0),
    (89, 58.0),
    (35, 56.0),
    (161, 56.0),
    (231, 54.0),
    (255, 52.0),
    (36, 52.0),
    (39, 50.0),
    (234, 50.0),
    (186, 48.0),
    (168, 48.0),
    (69, 46.0),
    (256, 46.0),
    (181, 44.0),
    (41, 44.0),
    (74, 42.0),
    (236, 40.0),
    (237, 40.0),
    (48, 40.0),
    (68, 38.0),
    (249, 38.0),
    (129, 36.0),
    (82, 34.0),
    (265, 2.0),
];

/// A fixed, seed-independent factor in 0.6..1.4 per zone, so the zones
/// outside the busy lists are not all alike.
fn jitter(id: u16) -> f64 {
    let mut x = u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    0.6 + 0.8 * ((x & 0xFFFF) as f64 / 65536.0)
}

/// How often zone `id` is the given end of a `dataset` trip, relative to
/// the other zones.
pub(crate) fn weight(dataset: Dataset, end: End, id: u16) -> f64 {
    let (busy, base) = match dataset {
        Dataset::Yellow => (YELLOW_BUSY, yellow_base(end, id)),
        Dataset::Green => (GREEN_BUSY, green_base(end, id)),
        Dataset::Fhvhv => (FHVHV_BUSY, fhvhv_base(end, id)),
    };
    let listed = busy.iter().find(|(zone, _)| *zone == id).map(|(_, w)| *w);
    match (listed, dataset, end) {
        // Green cabs may not pick up in the yellow zone or at the airports,
        // but drop off anywhere, often in Manhattan's busiest zones.
        (None, Dataset::Green, End::Dropoff) => {
            let yellow = YELLOW_BUSY.iter().find(|(zone, _)| *zone == id);
            yellow.map_or(base * jitter(id), |(_, w)| base + w / 8.0)
        }
        (Some(w), _, _) => w,
        (None, _, _) => base * jitter(id),
    }
}

fn yellow_base(end: End, id: u16) -> f64 {
    let outer = if end == End::Dropoff { 4.0 } else { 1.0 };
    match borough(id) {
        Borough::Manhattan => 1.5,
        Borough::Brooklyn | Borough::Queens => 0.6 * outer,
        Borough::Bronx => 0.3 * outer,
        Borough::StatenIsland => 0.05 * outer,
        Borough::Ewr => 0.05 * outer * outer,
        Borough::Unknown => 0.3,
    }
}

fn green_base(end: End, id: u16) -> f64 {
    match (borough(id), service_zone(id), end) {
        (_, ServiceZone::YellowZone, End::Pickup) => 0.3,
        (_, ServiceZone::YellowZone, End::Dropoff) => 2.0,
        (_, ServiceZone::Airports, End::Pickup) => 1.0,
        (_, ServiceZone::Airports, End::Dropoff) => 4.0,
        (Borough::Manhattan, _, _) => 3.0,
        (Borough::Brooklyn | Borough::Queens, _, _) => 2.5,
        (Borough::Bronx, _, _) => 2.0,
        (Borough::StatenIsland, _, _) => 0.2,
        (Borough::Ewr, _, End::Pickup) => 0.02,
        (Borough::Ewr, _, End::Dropoff) => 0.2,
        (Borough::Unknown, _, _) => 0.5,
    }
}

fn fhvhv_base(end: End, id: u16) -> f64 {
    match (borough(id), service_zone(id)) {
        (Borough::Manhattan, ServiceZone::YellowZone) => 9.0,
        (Borough::Manhattan, _) => 8.0,
        (Borough::Brooklyn, _) => 8.0,
        (Borough::Queens, _) => 6.0,
        (Borough::Bronx, _) => 7.0,
        (Borough::StatenIsland, _) => 2.5,
        (Borough::Ewr, _) if end == End::Dropoff => 2.0,
        (Borough::Ewr, _) => 0.3,
        (Borough::Unknown, _) => 1.0,
    }
}
