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

# Sigma field | QRadar property (several: comma-separated, matched with OR)
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
Hashes|CONCAT('"'"'MD5='"'"', '"'"'MD5 Hash '"'"', '"'"'SHA1='"'"', '"'"'SHA1 Hash '"'"', '"'"'SHA256='"'"', '"'"'SHA256 Hash '"'"', '"'"'IMPHASH='"'"', '"'"'IMP HASH'"'"')
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
ImageLoaded|CONCAT('"'"'file directory'"'"', '"'"'/'"'"', filename)
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
EVENT_SOURCES='AzureActiveDirectory|445
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
    printf '%s\n' "$EVENT_SOURCES" | while IFS='|' read -r es ids; do
      echo "  - id: qradar_aql_event_source_$(ident "$es")"
      echo "    type: set_state"
      echo "    key: aql_devicetypes"
      echo "    val: [$ids]"
      echo "    rule_conditions:"
      echo "      - type: contains_detection_item"
      echo "        field: eventSource"
      echo "        value: $(q "$es")"
    done
    echo "  # eventSource says which log source type: a devicetype above, never a property"
    echo "  - id: qradar_aql_event_source_drop"
    echo "    type: drop_detection_item"
    echo "    field_name_conditions:"
    echo "      - type: include_fields"
    echo "        fields: [eventSource]"
    echo "  # unstructured fields and a0..a5: a number is text found in the property"
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
