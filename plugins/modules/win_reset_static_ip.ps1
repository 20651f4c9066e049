#!powershell

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.snapkit.cloud.plugins.module_utils._SnapkitNetAdapter
#AnsibleRequires -PowerShell ansible_collections.snapkit.cloud.plugins.module_utils._SnapkitScheduledTask

$spec = @{
    options = @{
        adapters = @{ type = 'list'; elements = 'str' }
        reset_dns = @{ type = 'bool'; default = $true }
        remove_default_gateway = @{ type = 'bool'; default = $true }
        renew = @{ type = 'bool'; default = $true }
        session_adapter_delay_seconds = @{ type = 'int'; default = 5 }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

# The script of the scheduled task that switches the adapter carrying the session. The rules functions are
# prepended (Get-SnapkitNetAdapterRulesScript); param() must come first, so it is a separate piece.
$deferredParam = @'
param(
    [string]$TaskName,
    [int]$InterfaceIndex,
    [int]$DelaySeconds,
    [int]$ResetDns,
    [int]$RemoveDefaultGateway,
    [int]$Renew,
    [int]$LeaseTimeoutSeconds,
    [string]$ResultPath
)
'@
$deferredBody = @'
Start-Sleep -Seconds $DelaySeconds
$saved = Get-SnapkitIPv4State -InterfaceIndex $InterfaceIndex
try {
    $result = Invoke-SnapkitDhcpSwitch -InterfaceIndex $InterfaceIndex -ResetDns ($ResetDns -eq 1) `
        -RemoveDefaultGateway ($RemoveDefaultGateway -eq 1) -Renew ($Renew -eq 1)
    # The host must stay reachable: no lease within the set time puts the saved static configuration back.
    if ($null -eq (Wait-SnapkitDhcpLease -InterfaceIndex $InterfaceIndex -TimeoutSeconds $LeaseTimeoutSeconds)) {
        Restore-SnapkitIPv4State -InterfaceIndex $InterfaceIndex -State $saved
        $result = [ordered]@{ failed = $true; restored = $true
            msg = "no DHCP lease within $LeaseTimeoutSeconds seconds; the static configuration was restored" }
    }
    else {
        $result['after'] = Get-SnapkitIPv4State -InterfaceIndex $InterfaceIndex
        $result['failed'] = $false
        $result['restored'] = $false
    }
}
catch {
    $message = $_.Exception.Message
    try {
        Restore-SnapkitIPv4State -InterfaceIndex $InterfaceIndex -State $saved
        $result = [ordered]@{ failed = $true; restored = $true; msg = "$message; the static configuration was restored" }
    }
    catch {
        $result = [ordered]@{ failed = $true; restored = $false; msg = "$message; restoring the static configuration failed too: $($_.Exception.Message)" }
    }
}
$result['finished'] = (Get-Date).ToUniversalTime().ToString('o')
$result | ConvertTo-Json -Depth 8 | Set-Content -LiteralPath $ResultPath -Encoding UTF8
'@

# How long the deferred task waits for a lease before it puts the static configuration back.
$deferredLeaseSeconds = 60

Function Get-SessionInterfaceIndex {
    <#
    The interface indexes carrying the Ansible connection: local addresses of established TCP connections on a WinRM
    listener port (5985, 5986, any configured one, and 80 / 443 when WinRM's compatibility listeners are on), and the
    server address of SSH_CONNECTION.
    #>
    $ports = @(5985, 5986)
    try {
        $ports += @(Get-ChildItem -Path 'WSMan:\localhost\Listener' -ErrorAction Stop | ForEach-Object {
                Get-ChildItem -Path $_.PSPath -ErrorAction Stop | Where-Object { $_.Name -eq 'Port' } | ForEach-Object { [int]$_.Value }
            })
        $compatibility = @{ EnableCompatibilityHttpListener = 80; EnableCompatibilityHttpsListener = 443 }
        foreach ($name in $compatibility.Keys) {
            if ([string](Get-Item -Path "WSMan:\localhost\Service\$name" -ErrorAction Stop).Value -eq 'true') {
                $ports += $compatibility[$name]
            }
        }
    }
    catch {
        # The WSMan drive needs the WinRM service; the default ports are used then.
        $null = $_
    }
    $addresses = @(Get-NetTCPConnection -State Established -ErrorAction SilentlyContinue |
            Where-Object { $ports -contains [int]$_.LocalPort } | ForEach-Object { $_.LocalAddress -replace '^::ffff:', '' })
    if ($env:SSH_CONNECTION) {
        $addresses += ($env:SSH_CONNECTION -split ' ')[2]
    }
    @($addresses | Sort-Object -Unique | ForEach-Object {
            Get-NetIPAddress -IPAddress $_ -ErrorAction SilentlyContinue | ForEach-Object { [int]$_.InterfaceIndex }
        } | Sort-Object -Unique)
}

Function Start-DeferredSwitch {
    <# Registers and starts the SYSTEM task that switches the adapter after the delay; returns the task name. #>
    param([Parameter(Mandatory = $true)]$Adapter)
    $index = [int]$Adapter.InterfaceIndex
    $taskName = "snapkit.cloud-win_reset_static_ip-$index"
    $resultPath = Join-Path -Path (Get-SnapkitTaskDirectory) -ChildPath "win_reset_static_ip-$index.json"
    Remove-Item -LiteralPath $resultPath -Force -ErrorAction SilentlyContinue
    $script = @($deferredParam, (Get-SnapkitNetAdapterRulesScript), $deferredBody, (Get-SnapkitTaskCleanupScript))
    $flags = foreach ($name in @('reset_dns', 'remove_default_gateway', 'renew')) { [string][int][bool]$module.Params.$name }
    $arguments = @(
        '-TaskName', $taskName, '-InterfaceIndex', [string]$index,
        '-DelaySeconds', [string]$module.Params.session_adapter_delay_seconds,
        '-ResetDns', $flags[0], '-RemoveDefaultGateway', $flags[1], '-Renew', $flags[2],
        '-LeaseTimeoutSeconds', [string]$deferredLeaseSeconds, '-ResultPath', $resultPath
    )
    $null = Start-SnapkitSystemTask -TaskName $taskName -Script $script -ArgumentList $arguments
    $taskName
}

Function Get-AdapterResult {
    <# One adapter: switched now, or (the session's adapter) planned and left to a scheduled task, or planned only (check mode). #>
    param(
        [Parameter(Mandatory = $true)]$Adapter,
        [Parameter(Mandatory = $true)]$Before,
        [bool]$Deferred
    )
    $options = @{
        ResetDns = $module.Params.reset_dns
        RemoveDefaultGateway = $module.Params.remove_default_gateway
    }
    $index = [int]$Adapter.InterfaceIndex
    $entry = [ordered]@{
        name = $Adapter.Name
        interface_index = $index
        mac_address = $Adapter.MacAddress
        deferred = $false
        changed = $false
        before = $null
        after = $null
        task_name = $null
    }
    $before = $Before
    $entry.before = $before
    $needed = Test-SnapkitSwitchNeeded -State $before @options
    if (-not $needed) {
        $entry.after = $before
        return $entry
    }
    $entry.changed = $true
    $entry.deferred = $Deferred
    if ($module.CheckMode -or $Deferred) {
        $entry.after = Get-SnapkitExpectedIPv4State -State $before @options
        if ($Deferred -and -not $module.CheckMode) {
            if (Test-SnapkitTaskRunning -TaskName "snapkit.cloud-win_reset_static_ip-$index") {
                $module.Warn("The switch of adapter '$($Adapter.Name)' scheduled by an earlier run is still pending; not scheduled again.")
                $entry.task_name = "snapkit.cloud-win_reset_static_ip-$index"
            }
            else {
                $entry.task_name = Start-DeferredSwitch -Adapter $Adapter
            }
        }
        return $entry
    }
    $outcome = Invoke-SnapkitDhcpSwitch -InterfaceIndex $index @options -Renew $module.Params.renew
    foreach ($warning in $outcome.warnings) {
        $module.Warn($warning)
    }
    $entry.after = $outcome.after
    $entry.changed = $outcome.changed
    $entry
}

$delay = $module.Params.session_adapter_delay_seconds
if ($delay -lt 0 -or $delay -gt 3600) {
    $module.FailJson("session_adapter_delay_seconds must be between 0 and 3600 seconds, got $delay.")
}

try {
    $found = Find-SnapkitAdapter -Selector @($module.Params.adapters)
}
catch {
    $module.FailJson($_.Exception.Message)
}
if ($found.unmatched.Count -gt 0) {
    $known = @($found.all | ForEach-Object { "$($_.Name) (index $($_.InterfaceIndex), MAC $($_.MacAddress))" }) -join '; '
    $module.FailJson("adapters: no network adapter matches $(@($found.unmatched | ForEach-Object { "'$_'" }) -join ', ') " +
        "(by name, interface index or MAC address). Adapters found: $known.")
}

foreach ($adapter in $found.disabled) {
    $module.Warn("$(Get-SnapkitDisabledMessage -Adapter $adapter) It is left out.")
}

# Every adapter is read before any is changed, so an adapter without IPv4 fails the task before any change.
$beforeStates = @{}
foreach ($adapter in $found.adapters) {
    $state = Get-SnapkitIPv4State -InterfaceIndex $adapter.InterfaceIndex
    if ($null -eq $state) {
        $module.FailJson("adapters: adapter '$($adapter.Name)' (interface index $($adapter.InterfaceIndex)) has no IPv4 interface; " +
            "bind IPv4 to it or leave it out of adapters.")
    }
    $beforeStates[[int]$adapter.InterfaceIndex] = $state
}

# The other adapters are switched first and the session's adapter is scheduled last, so that its delay starts
# only when nothing but the answer is left to do (a lease wait on another adapter can take 15 seconds).
$sessionIndexes = @(Get-SessionInterfaceIndex)
$ordered = @($found.adapters | Where-Object { $sessionIndexes -notcontains [int]$_.InterfaceIndex }) +
@($found.adapters | Where-Object { $sessionIndexes -contains [int]$_.InterfaceIndex })
$needing = @($found.adapters | Where-Object {
        Test-SnapkitSwitchNeeded -State $beforeStates[[int]$_.InterfaceIndex] -ResetDns $module.Params.reset_dns -RemoveDefaultGateway $module.Params.remove_default_gateway
    })
if ($needing.Count -gt 0) {
    try {
        Assert-SnapkitDhcpClient
    }
    catch {
        $module.FailJson($_.Exception.Message)
    }
}

# A deferred switch runs a script as SYSTEM from the task folder: it must be admin-only before anything changes.
$deferring = @($needing | Where-Object { $sessionIndexes -contains [int]$_.InterfaceIndex })
if ($deferring.Count -gt 0) {
    try {
        Assert-SnapkitTaskDirectory
    }
    catch {
        $module.FailJson("The switch of adapter '$($deferring[0].Name)' (the session's) cannot be scheduled: $($_.Exception.Message)")
    }
}
# What the deferred switches of earlier runs did (their result files), reported once and then removed.
$module.Result.deferred_results = @(foreach ($adapter in $found.adapters) {
        $index = [int]$adapter.InterfaceIndex
        $path = Join-Path -Path (Get-SnapkitTaskDirectoryPath) -ChildPath "win_reset_static_ip-$index.json"
        if (Test-Path -LiteralPath $path -PathType Leaf) {
            $earlier = Get-Content -LiteralPath $path -Raw | ConvertFrom-Json
            $earlier | Add-Member -NotePropertyName interface_index -NotePropertyValue $index -Force
            if ($earlier.failed) {
                $module.Warn("The deferred switch of interface $index by an earlier run failed: $($earlier.msg)")
            }
            if (-not $module.CheckMode) {
                Remove-Item -LiteralPath $path -Force
            }
            $earlier
        }
    })
$results = @()
try {
    foreach ($adapter in $ordered) {
        $index = [int]$adapter.InterfaceIndex
        $results += Get-AdapterResult -Adapter $adapter -Before $beforeStates[$index] -Deferred ($sessionIndexes -contains $index)
    }
}
catch {
    $module.Result.adapters = $results
    $module.FailJson("Switching adapter '$($adapter.Name)' to DHCP failed: $($_.Exception.Message)", $_)
}
$results = @($results | Sort-Object -Property { $_.interface_index })

$module.Result.adapters = $results
$module.Result.changed = @($results | Where-Object { $_.changed }).Count -gt 0
$changedAdapters = @($results | Where-Object { $_.changed })
$module.Diff.before = @{}
$module.Diff.after = @{}
foreach ($entry in $changedAdapters) {
    $module.Diff.before[$entry.name] = $entry.before
    $module.Diff.after[$entry.name] = $entry.after
}
$module.ExitJson()
