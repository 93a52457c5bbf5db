#!/usr/bin/env bash
# qradar_pipelines.sh - write pipelines/qradar-aql-fields.yml and
# pipelines/qradar-aql-payload.yml: IBM's two QRadar pipelines
# (pySigma-backend-QRadar-AQL: sigma/mapping/{fields,products,services,logsources}.py,
# summarised in ../shared/notes/aql.md) as sigmacc pipeline YAML. Facts only:
# which Sigma field is which QRadar property, which log source is which
# devicetype. The two files differ only in what happens to an unmapped field.
#
# usage: scripts/qradar_pipelines.sh   (from anywhere; rewrites both files)
set -euo pipefail
cd "$(dirname "$0")/.."

# Sigma field | QRadar property (several: comma-separated, matched with OR). Two of IBM's
# expressions are corrected (README: where sigmacc differs from IBM): its Hashes CONCAT joins
# string literals ('MD5 Hash ', not the property "MD5 Hash") and its ImageLoaded CONCAT joins
# the literal 'file directory' with '/', so neither ever matched a hash or a Windows path
FIELDS='AccessList|Rule Name
AccessMask|Access Mask
Accesses|Accesses
AppID|Application
AppId|Application
AppName|Application
AttributeLDAPDisplayName|Username,Account Name,Distinguished Name
AttributeValue|Attribute Old Value,Attribute New Value
c-useragent|User Agent
cs-user-agent|User Agent
cs-username|Username
CallTrace|Call Trace
CallerProcessName|Process Path
cipher|Ticket Encryption Type
CommandLine|Command
cs-method|Method
DestinationHostname|Destination Hostname
ErrorCode|Error Code
ExceptionCode|Error Code
EventID|Event ID
FailureCode|Error Code
FileName|Filename
Filename|Filename
GrantedAccess|Granted Access
Hashes|CONCAT('"'"'MD5='"'"', "MD5 Hash", '"'"',SHA1='"'"', "SHA1 Hash", '"'"',SHA256='"'"', "SHA256 Hash", '"'"',IMPHASH='"'"', "IMP Hash")
HostApplication|Process Path
HostName|Hostname
Initiated|Initiated
Image|Process Path,Process Name
ImageName|Process Name
ImagePath|Process Path
Imphash|IMP Hash
IntegrityLevel|Integrity Level
InterfaceUuid|Source Interface UUID
LogonType|Logon Type
Message|Message
Name|File Path
ObjectName|Object Name
ObjectType|Object Type
OriginalFileName|Filename
ParentCommandLine|Parent Command
ParentImage|Parent Process Path
ParentProcessId|Parent Process ID
Path|File Path
path|File Path
Payload|UTF8(payload)
payload|UTF8(payload)
PipeName|Pipe Name
ProcessId|Process ID
ProcessName|Process Name
ProcessPath|Process Path
SamAccountName|SAM Account Name
Service|Service Name
ServiceFileName|Service Filename
ServiceName|Service Name
ShareName|Share Name
Signed|Signed
Status|Status
StartAddress|Start Address
TargetFilename|Filename
TargetImage|Target Process Path
TargetObject|Process Name,Target Process Name,Object Name
TargetUserName|Target Username
TaskName|Task Name
TicketEncryptionType|Ticket Encryption Type
UserName|Username
Username|Username
md5|MD5 Hash
method|Method
NewTargetUserName|Target Username
sha1|SHA1 Hash
sha256|SHA256 Hash
SourceFilename|filename
SourceImage|Source Process Path
USER|Username
User|Username
userAgent|User Agent
user_agent|User Agent
eventName|QIDNAME(qid)
ImageLoaded|CONCAT("File Directory", '"'"'\'"'"', filename)
DestinationIp|destinationip
DestPort|destinationport
DestinationPort|destinationport
destination.port|destinationport
dst_ip|destinationip
dst_port|destinationport
SourcePort|sourceport
src_ip|sourceip'

# unstructured fields: the value is searched anywhere in the property
UNSTRUCTURED='c-uri|URL
c-uri-extension|URL
c-uri-query|URL
cs-uri|URL
cs-uri-query|URL
cs-uri-stem|URL
properties.message|Message
ScriptBlockText|Message
uri|URL'

# auditd EXECVE arguments a0..a5: "aN" then the value, anywhere in Command
PARTS='a0 a1 a2 a3 a4 a5'

# log source -> devicetype ids (products, services), and eventSource values
PRODUCTS='aws|347, 440, 456, 460, 501, 502, 507, 516, 519
MicrosoftAzure|413
cisco|6, 20, 23, 26, 30, 31, 41, 56, 90, 94, 95, 113, 114, 115, 116, 117, 179, 182, 183, 194, 248, 250, 273, 274, 316, 419, 429, 431, 435, 437, 448, 508
gcp|442, 449, 455, 461
huawei|269, 283
juniper|5, 17, 36, 45, 59, 64, 83, 111, 118, 122, 123, 139, 150, 168, 192, 235, 264, 290, 320, 344
linux|11
m365|397
macos|102
okta|382
sql|101
windows|12'
SERVICES='aaa|143
apache|10
auditd|11
auth|12
clamav|11
cloudtrail|347
cron|11
exchange|99
gcp.audit|449
iis|13
ldp|17
lsa-server|191
microsoft365portal|397, 452, 515
okta|382
powershell|12
rdp|11, 12
smbclient-security|11, 12
sshd|11
sudo|11
syslog|11, 12
sysmon|12
taskscheduler|11, 12
threat_detection|424
windefend|433
wmi|12'
# eventSource values -> devicetype id: IBM's table (aql_log_source_mapping: its 407 DSM
# names and 10 custom ones)
EVENT_SOURCES='Snort|2
CheckPoint|3
GenericFirewall|4
NetScreenFirewall|5
Pix|6
GenericAuthServer|7
SOAP|8
Dragon|9
Apache|10
LinuxServer|11
WindowsAuthServer|12
IIS|13
Iptables|14
Proventia|15
Classify|16
NetScreenIDP|17
EventCRE|18
UnityOne|19
IOS|20
Contivity|21
ARN|22
VpnConcentrator|23
Solaris2|24
IntruShield|25
CSA|26
Enterasys|28
Sendmail|29
IDS|30
FWSM|31
SiteProtector|33
Cyberguard|35
JuniperSA|36
Contivityv2|37
TopLayerIPS|38
GenericDSM|39
Tripwire|40
ASA|41
Niksun|42
NetScreenNSM|45
WebProxy|46
IpAngel|47
OracleDbAudit|48
BigIP|49
SolarisDhcpd|50
ArrayVPN|55
CatOS|56
ProFTPD|57
LinuxDHCP|58
InfranetController|59
JuniperRouter|64
GenericLogDSM|67
NSeries|68
ExtremeWare|70
Sidewinder|71
FortiGate|73
SonicWall|78
Vericept|79
SymantecFirewall|82
JuniperSBR|83
IBMAIXServer|85
MetaIP|86
SymantecSystemCenter|87
ACS|90
CounterAct|92
McAfeeEpo|93
Cisco|94
NAC|95
TippingPointx505|96
MicrosoftDHCP|97
MicrosoftIAS|98
MicrosoftExchange|99
TrendISVW|100
MicrosoftSQL|101
AppleOSX|102
Bluecoat|103
Firewall6000|104
SIMAudit|105
Threecom8800SeriesSwitch|106
VPNGateway|107
NortelTPS|108
NortelNAS|110
JuniperDX|111
SNAREReflector|112
Series12000|113
Series6500|114
Series7600|115
SeriesCRS|116
SeriesISR|117
JuniperMSeries|118
Firewall5100|120
JuniperMXSeries|122
JuniperTSeries|123
ERS83_8600|134
ERS25_45_5500|135
NortelSR|136
OpenBSD|138
JuniperEXSeries|139
PowerBroker|140
OracleDBListener|141
Samhain|142
BridgewaterAAA|143
NameValuePair|144
NortelSNAS|145
StarentHA|146
SIMNotification|147
IBMi|148
FastIronDsm|149
JuniperSRX|150
Cryptoshield|153
Securesphere|154
Mobility|155
NetsightASM|156
HiGuard|157
SymbolAP|158
HiPath|159
Endpointprotection|160
RACF|161
RSAAuthenticationManager|163
ASE|164
Officescan|165
XSRSecurityRouters|166
Securestack|167
Avt|168
OSServices|169
ASeries|170
B2Series|171
B3Series|172
C2Series|173
C3Series|174
DSeries|175
GSeries|176
ISeries|177
ControlManager|178
IronPort|179
HpUx|180
Aironet|182
Wism|183
Bind|185
IBMDomino|186
Tandem|187
Hedgehog|188
SybaseAse|189
ISA|191
SRC|192
DefensePro|193
ACE|194
Db2|195
Auditvault|196
SourcefireDefenseCenter|197
Vseries|198
OracleOSAudit|199
RiskManagerDefaultQuestion|200
RiskManagerUserQuestion|201
RiskManagerDefaultSimulation|202
RiskManagerUserSimulation|203
RiskManager|204
QFLOW|205
PaSeries|206
AnomalyDetectionEngine|207
Procurve|208
Operationsmanager|209
VmWare|210
Websphere|211
UniversalLEEF|212
F5ASM|213
FireEyeMPS|214
Fairwarning|215
Informix|216
TopSecret|217
Nac|218
Scom|219
WebGateway|220
Acf2|221
ChangeControl|222
RandomPasswordManager|223
EnterpriseConsole|224
DataONTAP|225
Puremessage|226
CyberArkVault|227
ItronSmartMeter|228
Bit9Parity|230
IMS|231
F5FirePass|232
CitrixNetScaler|233
F5APM|234
JuniperAltorVGW|235
DLP|236
SolarisBSM|238
OracleWebLogic|239
WebSecurityAppliance|240
Astaro|241
Infoblox|243
ControlElement|244
EDirectory|245
WinCollect|246
EMCVShield|247
CiscoWirelessNCS|248
Guardium|249
Nexus|250
StoneGate|251
SolarWindsOrion|252
MicrosoftFEP|253
GreatBayBeacon|254
DamballaFailsafe|255
SiteMinder|258
IBMzOS|259
SharePoint|260
ITCubeAgileSI|261
EventCREInjected|262
DCRSSeries|263
SecurityBinaryLogCollector|264
TrendMicroDeepDiscovery|265
TivoliAccessManager|266
AssetProfiler|267
VerdasysDigitalGuardian|268
SSeriesSwitch|269
CitrixAccessGateway|270
HBGaryActiveDefense|271
APCUninterruptiblePowerSupply|272
CiscoWLC|273
CiscoCallManager|274
CRESystem |275
IBMCICS|276
BarracudaFirewall|278
OpenLDAP|279
AppSecDbProtect|280
BarracudaWAF|281
OSSEC|282
ARSeriesRouter|283
SunONELDAP|284
BlueCatNetworksAdonis|285
IBMAIXAudit|286
PGPUniversalServer|287
KasperskySecurityCenter|288
IBMTivoliEndpointManager|289
JuniperMykonosWebSecurity|290
NominumVantio|291
Enterasys800SeriesSwitch|292
IBMzSecureAlert|293
IBMSecurityNetworkProtectionXGS|294
IBMSecurityIdentityManager|295
BigIPAFM|296
IBMSecurityNetworkIPS|297
FidelisXPS|298
ArpeggioSIFTIT|299
BarracudaWebFilter|300
BrocadeFabricOS|302
ThreatGRIDMalwareThreatIntelligencePlatform|303
IBMSecurityAccessManagerESSO|304
EMCvCloud|305
VenusenseUTM|306
VenusenseFirewall|307
VenusenseNIPS|308
ObserveITObserveIT|309
PireanAccessOne|311
VenustechVenusense|312
PostFixMailTransferAgent|313
OracleFineGrainedAuditing|314
EMCVCenter|315
CiscoISE|316
HoneycombLexiconFileIntegrityMonitor|318
AcmePacketSessionDirectorSBC|319
JuniperWirelessLAN|320
AkamaiKona|321
PeakflowSp|330
ZscalerNss|331
ProofpointEnterpriseProtectionEnterprisePrivacy|332
H3CComware|333
H3CSwitch|334
H3CRouter|335
H3CWLAN|336
H3CSecPath|337
MicrosoftHyperV|338
CilasoftQJRN400|339
VormetricDataFirewall|340
SafeNetDataSecure|341
Ceilometer|342
StealthINTERCEPT|343
JuniperDDoSSecure|344
ArborNetworksPravail|345
TrusteerEnterpriseProtection|346
AmazonAWSCloudTrail|347
IBMSecurityDirectoryServer|348
A4Series|349
B5Series|350
C5Series|351
SalesforceSecurityMonitoring|352
AhnLabPolicyCenter|353
AvayaVPNGateway|354
SearchResults|355
DGTechnologyMEAS|356
SalesforceSecurityAuditing|357
CloudPassageHalo|358
CorreLogAgentforIBMzOS|359
WatchGuardFirewareOS|360
IBMFiberlinkMaaS360|361
TrendMicroDeepDiscoveryAnalyzer|362
AccessDataInSight|363
IBMPrivilegedSessionRecorder|364
CloudFoundry|365
IBMSmartCloudOrchestrator|366
UniversalCEF|367
IBMHealthMetrics|368
FreeRADIUS|369
RiverbedSteelCentralNetProfiler|370
RiverbedSteelCentralNetProfilerAudit|371
SSHCryptoAuditor|372
IBMWebSphereDataPower|373
SymantecCriticalSystemProtection|374
SafeNetI|375
IBMFederatedDirectoryServer|376
HyTrustCloudControl|377
LastlineEnterprise|378
GenuaGenugate|379
IBMSecurityPrivilegeIdentityManager|380
NetskopeActive|381
OktaIdentityManagement|382
OracleEnterpriseManager|383
MicrosoftDNS|384
StealthINTERCEPTAnalytics|385
StealthINTERCEPTAlerts|386
ClouderaNavigator|388
SecurityAccessManagerForMobile|389
SkyhighNetworksCloudSecurityPlatform|390
ArubaClearPass|391
IBMSecurityIdentityGovernance|392
SeculertSeculert|393
TrendMicroDeepSecurity|394
EpicSIEM|395
EnterpriseITSecuritySFSherlock|396
Office365|397
ExabeamExabeam|398
BluecoatWebSecurityService|399
CarbonBlack|400
TrendMicroDeepDiscoveryEmailInspector|401
OnapsisSecurityPlatform|402
CyberArkPrivilegedThreatAnalytics|403
PaloAltoEndpointSecurityManager|404
Box|405
RadwareAppWall|406
CrowdStrikeFalconHost|407
IBMSense|408
CloudLockCloudSecurityFabric|409
VectraNetworksVectra|410
HPNetworkAutomation|411
IBMQRadarPacketCapture|412
MicrosoftAzure|413
KasperskyThreatFeedService|414
RemoteAdministrator|415
IllumioAdaptiveSecurityPlatform|416
Niara|418
CiscoCWS|419
CentrifyIdentityPlatform|420
IBMSANVolumeController|421
LightCyberMagna|422
FasooFED|423
SAPEnterpriseThreatDetection|424
ImpervaIncapsula|425
IBMBigFixEDR|426
CentrifyServerSuite|427
CarbonBlackProtection|428
CiscoStealthwatch|429
CiscoUmbrella|431
IBMActivityTracker|432
MicrosoftWindowsDefenderATP|433
VMWareAppDefense|434
CiscoMeraki|435
AmazonGuardDuty|436
CiscoAMP|437
TrendMicroDeepDiscoveryDirector|438
Nginx|439
AWSSecurityHub|440
GoogleGSuite|442
MicrosoftAzureSecurityCenter|443
osquery|444
MicrosoftAzureActiveDirectory|445
KubernetesAuditing|446
IBMCloudIdentity|447
CiscoFirepowerThreatDefense|448
GoogleCloudAudit|449
NetgatePfSense|450
IBMSecurityTrusteer|451
Office365MessageTrace|452
IBMDLCMetrics|453
SysFlowTelemetry|454
GoogleCloudPlatformFirewall|455
AmazonAWSNetworkFirewall|456
TrendApexCentral|457
Cloudflare|458
AmazonAWSALBAccessLogs|460
GoogleCloudDNS|461
QRadarAppLogger|500
AmazonAWSWAF|501
AmazonAWSKubernetes|502
ZscalerPrivateAccess|503
RedhatKubernetes|504
Suricata|506
AmazonAWSRoute53|507
CiscoDuo|508
IBMSecurityReaQta|512
Microsoft365Defender|515
AmazonCloudFront|516
IBMSecurityRandoriRecon|517
AWSVerifiedAccess|519
IBMCustomDSM|4000
IBMQRadarNetworkThreatAnalyticsCustom|4001
IBMDNSAnalyzer|4002
AzureActiveDirectory|445
SecurityComplianceCenter|443
securityhub.amazonaws.com|440
route53.amazonaws.com|507
Exchange|99
cloudtrail.amazonaws.com|347
guardduty.amazonaws.com|436
eks.amazonaws.com|502
elasticache.amazonaws.com|502
s3.amazonaws.com|347'

# YAML single-quoted scalar
q() { printf "'%s'" "${1//\'/\'\'}"; }
ident() { printf '%s' "$1" | tr -c 'A-Za-z0-9\n' '_'; }

write() { # NAME DESCRIPTION UNMAPPED-ITEM
  local name=$1 out=pipelines/$1.yml
  {
    echo "# $name - $2"
    echo "# IBM's QRadar AQL pipeline (pySigma-backend-QRadar-AQL) as sigmacc pipeline YAML: Sigma"
    echo "# fields -> QRadar properties (one field may be several properties, matched with OR),"
    echo "# log sources and eventSource values -> devicetype ids (the union of all that apply, as"
    echo "# IBM's backend takes it), unstructured fields searched anywhere in their property."
    echo "# Log source categories are not mapped, as in IBM's pipeline (see -p qradar for Windows"
    echo "# categories as Event IDs). Generated by scripts/qradar_pipelines.sh; edit that, not this."
    echo "name: $name"
    echo "priority: 20"
    echo "allowed_backends: [aql]"
    echo "transformations:"
    echo "  # expressions and Ariel columns a mapped field may be: written bare"
    echo "  - id: qradar_aql_expressions"
    echo "    type: set_state"
    echo "    key: aql_columns"
    echo "    val:"
    printf '%s\n' "$FIELDS" | cut -d'|' -f2 | grep '(' | sort -u | while read -r e; do echo "      - $(q "$e")"; done
    local kind list attr
    for kind in product service; do
      [ $kind = product ] && list=$PRODUCTS || list=$SERVICES
      printf '%s\n' "$list" | while IFS='|' read -r ls ids; do
        echo "  - id: qradar_aql_${kind}_$(ident "$ls")"
        echo "    type: set_state"
        echo "    key: aql_devicetypes"
        echo "    val: [$ids]"
        echo "    rule_conditions:"
        echo "      - type: logsource"
        echo "        $kind: $(q "$ls")"
      done
    done
    # eventSource names a log source type: when IBM's table has every value, the item
    # becomes a test of devicetype (the AQL target unites a required one with the
    # rule's devicetypes, as IBM does, and keeps one under not or or as a test of its
    # own: IBM turned a negated eventSource into a positive devicetype); a value the
    # table lacks leaves the field as it is, for the pipeline's unmapped-field rule
    # (IBM dropped the item without a word)
    echo "  - id: qradar_aql_event_source_ids"
    echo "    type: map_string"
    echo "    mapping:"
    printf '%s\n' "$EVENT_SOURCES" | while IFS='|' read -r es ids; do echo "      $(q "$es"): $(q "$ids")"; done
    echo "    field_name_conditions:"
    echo "      - type: include_fields"
    echo "        fields: [eventSource]"
    echo "    detection_item_conditions:"
    echo "      - type: match_string"
    echo "        cond: all"
    printf '        pattern: %s\n' "$(q "^(?:$(printf '%s\n' "$EVENT_SOURCES" | cut -d'|' -f1 | sed 's/[.]/\\./g' | paste -sd'|'))\$")"
    local applied='    detection_item_conditions:
      - type: processing_item_applied
        processing_item_id: qradar_aql_event_source_ids'
    echo "  - id: qradar_aql_event_source_type"
    echo "    type: convert_type"
    echo "    target_type: num"
    printf '%s\n' "$applied"
    echo "  - id: qradar_aql_event_source_field"
    echo "    type: field_name_mapping"
    echo "    mapping: {eventSource: devicetype}"
    printf '%s\n' "$applied"
  # unstructured fields and a0..a5: a number is text found in the property"
    echo "  - id: qradar_aql_unstructured_numbers"
    echo "    type: convert_type"
    echo "    target_type: str"
    echo "    field_name_conditions:"
    echo "      - type: include_fields"
    echo "        fields:"
    { printf '%s\n' "$UNSTRUCTURED" | cut -d'|' -f1; printf '%s\n' $PARTS; } | while read -r f; do echo "          - $(q "$f")"; done
    echo "  - id: qradar_aql_unstructured"
    echo "    type: replace_string"
    echo "    regex: '^(.*)\$'"
    echo "    replacement: '*\\1*'"
    echo "    interpret_special: true"
    echo "    field_name_conditions:"
    echo "      - type: include_fields"
    echo "        fields:"
    printf '%s\n' "$UNSTRUCTURED" | cut -d'|' -f1 | while read -r f; do echo "          - $(q "$f")"; done
    for attr in $PARTS; do
      echo "  - id: qradar_aql_unstructured_$attr"
      echo "    type: replace_string"
      echo "    regex: '^(.*)\$'"
      echo "    replacement: '*$attr*\\1*'"
      echo "    interpret_special: true"
      echo "    field_name_conditions:"
      echo "      - type: include_fields"
      echo "        fields: [$attr]"
    done
    echo "  - id: qradar_aql_fields"
    echo "    type: field_name_mapping"
    echo "    mapping:"
    { printf '%s\n' "$FIELDS" "$UNSTRUCTURED"; for attr in $PARTS; do echo "$attr|Command"; done; } |
      while IFS='|' read -r f props; do
        if [[ $props == *,* && $props != *\(* ]]; then
          echo "      $(q "$f"):"
          printf '%s\n' "$props" | tr ',' '\n' | while read -r p; do echo "        - $(q "$p")"; done
        else
          echo "      $(q "$f"): $(q "$props")"
        fi
      done
    printf '%s\n' "$3"
  } >"$out"
}

write qradar-aql-fields "IBM's QRadar fields pipeline: an unmapped field is an error." \
  '  - id: qradar_aql_unmapped_fields
    type: strict_field_mapping_failure'
write qradar-aql-payload "IBM's QRadar payload pipeline: an unmapped field's value is searched in UTF8(payload)." \
  '  # an unmapped field: its value searched anywhere in UTF8(payload), as IBM does
  - id: qradar_aql_unmapped_payload
    type: set_state
    key: aql_unmapped_fields
    val: payload'
