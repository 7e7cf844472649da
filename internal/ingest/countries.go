package ingest

import (
	"errors"
	"strings"
)

// isoCountries lists ISO 3166-1 alpha-2 codes with their English short
// names, which some exports (BigCommerce) write instead of the code.
const isoCountries = `AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania|AM Armenia|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria|AU Australia|AW Aruba|AX Aland Islands|AZ Azerbaijan|` +
	`BA Bosnia and Herzegovina|BB Barbados|BD Bangladesh|BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthelemy|BM Bermuda|BN Brunei Darussalam|BO Bolivia|BQ Bonaire, Sint Eustatius and Saba|BR Brazil|BS Bahamas|BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|` +
	`CA Canada|CC Cocos (Keeling) Islands|CD Congo, Democratic Republic of the|CF Central African Republic|CG Congo|CH Switzerland|CI Cote d'Ivoire|CK Cook Islands|CL Chile|CM Cameroon|CN China|CO Colombia|CR Costa Rica|CU Cuba|CV Cabo Verde|CW Curacao|CX Christmas Island|CY Cyprus|CZ Czechia|` +
	`DE Germany|DJ Djibouti|DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria|EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia|FI Finland|FJ Fiji|FK Falkland Islands (Malvinas)|FM Micronesia|FO Faroe Islands|FR France|` +
	`GA Gabon|GB United Kingdom|GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland|GM Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece|GS South Georgia and the South Sandwich Islands|GT Guatemala|GU Guam|GW Guinea-Bissau|GY Guyana|` +
	`HK Hong Kong|HM Heard Island and McDonald Islands|HN Honduras|HR Croatia|HT Haiti|HU Hungary|ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India|IO British Indian Ocean Territory|IQ Iraq|IR Iran|IS Iceland|IT Italy|JE Jersey|JM Jamaica|JO Jordan|JP Japan|` +
	`KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros|KN Saint Kitts and Nevis|KP North Korea|KR South Korea|KW Kuwait|KY Cayman Islands|KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|LY Libya|` +
	`MA Morocco|MC Monaco|MD Moldova|ME Montenegro|MF Saint Martin (French part)|MG Madagascar|MH Marshall Islands|MK North Macedonia|ML Mali|MM Myanmar|MN Mongolia|MO Macao|MP Northern Mariana Islands|MQ Martinique|MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi|MX Mexico|MY Malaysia|MZ Mozambique|` +
	`NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria|NI Nicaragua|NL Netherlands|NO Norway|NP Nepal|NR Nauru|NU Niue|NZ New Zealand|OM Oman|PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea|PH Philippines|PK Pakistan|PL Poland|PM Saint Pierre and Miquelon|PN Pitcairn|PR Puerto Rico|PS Palestine|PT Portugal|PW Palau|PY Paraguay|` +
	`QA Qatar|RE Reunion|RO Romania|RS Serbia|RU Russia|RW Rwanda|SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden|SG Singapore|SH Saint Helena|SI Slovenia|SJ Svalbard and Jan Mayen|SK Slovakia|SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname|SS South Sudan|ST Sao Tome and Principe|SV El Salvador|SX Sint Maarten (Dutch part)|SY Syria|SZ Eswatini|` +
	`TC Turks and Caicos Islands|TD Chad|TF French Southern Territories|TG Togo|TH Thailand|TJ Tajikistan|TK Tokelau|TL Timor-Leste|TM Turkmenistan|TN Tunisia|TO Tonga|TR Turkey|TT Trinidad and Tobago|TV Tuvalu|TW Taiwan|TZ Tanzania|` +
	`UA Ukraine|UG Uganda|UM United States Minor Outlying Islands|US United States|UY Uruguay|UZ Uzbekistan|VA Holy See (Vatican City State)|VC Saint Vincent and the Grenadines|VE Venezuela|VG Virgin Islands, British|VI Virgin Islands, U.S.|VN Vietnam|VU Vanuatu|WF Wallis and Futuna|WS Samoa|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe`

// countryAliases are other names and codes in common use.
var countryAliases = map[string]string{
	"uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
	"united kingdom of great britain and northern ireland": "GB",
	"usa": "US", "u.s.a.": "US", "u.s.": "US", "united states of america": "US", "america": "US",
	"korea, republic of": "KR", "republic of korea": "KR", "korea": "KR", "korea, democratic people's republic of": "KP",
	"russian federation": "RU", "czech republic": "CZ", "viet nam": "VN", "iran, islamic republic of": "IR",
	"taiwan, province of china": "TW", "hong kong sar": "HK", "macau": "MO", "the netherlands": "NL", "holland": "NL",
	"turkiye": "TR", "türkiye": "TR", "ivory coast": "CI", "côte d'ivoire": "CI", "cape verde": "CV", "swaziland": "SZ",
	"macedonia": "MK", "burma": "MM", "lao people's democratic republic": "LA", "syrian arab republic": "SY",
	"moldova, republic of": "MD", "tanzania, united republic of": "TZ", "bolivia, plurinational state of": "BO",
	"venezuela, bolivarian republic of": "VE", "brunei": "BN", "vatican city": "VA", "micronesia, federated states of": "FM",
	"palestine, state of": "PS", "réunion": "RE", "curaçao": "CW", "åland islands": "AX", "saint barthélemy": "BL",
	"deutschland": "DE", "españa": "ES", "espana": "ES", "österreich": "AT", "schweiz": "CH", "suisse": "CH", "nederland": "NL",
}

// countryByName, countryNames and countryCodes are read only once built.
var countryByName, countryNames, countryCodes = buildCountries()

func buildCountries() (byName, names map[string]string, codes map[string]bool) {
	byName, names, codes = map[string]string{}, map[string]string{}, map[string]bool{}
	for _, e := range strings.Split(isoCountries, "|") {
		code, name, _ := strings.Cut(e, " ")
		codes[code] = true
		names[code] = name
		byName[strings.ToLower(name)] = code
	}
	for k, v := range countryAliases {
		byName[k] = v
	}
	return byName, names, codes
}

// CountryName returns the English short name of an ISO 3166-1 alpha-2
// code ("DE" → "Germany"): the one list of country names that imports,
// pages and questions share.
func CountryName(code string) (string, bool) {
	n, ok := countryNames[strings.ToUpper(code)]
	return n, ok
}

// normCountry returns the ISO 3166-1 alpha-2 code of a country given by
// code or English name, "" for an empty value.
func normCountry(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) == 2 {
		c := strings.ToUpper(s)
		if c == "UK" {
			return "GB", nil
		}
		if countryCodes[c] {
			return c, nil
		}
		return "", errors.New("is not an ISO 3166-1 country code")
	}
	if c, ok := countryByName[strings.ToLower(s)]; ok {
		return c, nil
	}
	return "", errors.New("is not a country (use an ISO 3166-1 code such as US, or an English country name)")
}
