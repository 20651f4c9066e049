# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to snapkit.cloud. The rules for switching a Windows network adapter from a static IPv4 configuration to
# DHCP, in one place. They are used three ways, so this file must stay self-contained (no Ansible module utils, no
# #Requires, no Export-ModuleMember: every function is exported) and run on Windows PowerShell 5.1:
# - win_reset_static_ip loads it as a module util;
# - win_reset_static_ip copies these functions (Get-SnapkitNetAdapterRulesScript) into the script of the scheduled
#   task that switches the adapter carrying the WinRM session after the module has returned;
# - the lookup win_dhcp_userdata embeds this file's text in a cloudbase-init #ps1_sysnative user-data script.
# Adapters are always addressed by interface index: a restored copy can have renamed or ghost adapters.

Function Get-SnapkitIPv4InterfaceStore {
    <#
    Where the adapter's IPv4 interface is: ActiveStore, else PersistentStore (an adapter without a link may have no
    active one), else $null (IPv4 not bound). Rows are always fetched per store: the store a row came from is known
    from the query, not read from the row.
    #>
    param([Parameter(Mandatory = $true)][int]$InterfaceIndex)
    foreach ($store in @('ActiveStore', 'PersistentStore')) {
        if ($null -ne (Get-NetIPInterface -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -PolicyStore $store -ErrorAction SilentlyContinue)) {
            return $store
        }
    }
    $null
}

Function Get-SnapkitIPv4Interface {
    <# The adapter's IPv4 interface row, from the store Get-SnapkitIPv4InterfaceStore names, or $null. #>
    param([Parameter(Mandatory = $true)][int]$InterfaceIndex)
    $store = Get-SnapkitIPv4InterfaceStore -InterfaceIndex $InterfaceIndex
    if ($null -ne $store) {
        Get-NetIPInterface -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -PolicyStore $store -ErrorAction SilentlyContinue | Select-Object -First 1
    }
}

Function Get-SnapkitIPv4Address {
    <# The IPv4 address rows of the adapter in one store. #>
    param(
        [Parameter(Mandatory = $true)][int]$InterfaceIndex,
        [Parameter(Mandatory = $true)][string]$Store
    )
    Get-NetIPAddress -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -PolicyStore $Store -ErrorAction SilentlyContinue
}

Function Get-SnapkitManualIPv4Address {
    <# The manual IPv4 addresses: every persistent row (they survive a reboot) and the active rows of origin Manual. #>
    param([Parameter(Mandatory = $true)][int]$InterfaceIndex)
    Get-SnapkitIPv4Address -InterfaceIndex $InterfaceIndex -Store PersistentStore
    Get-SnapkitIPv4Address -InterfaceIndex $InterfaceIndex -Store ActiveStore | Where-Object { [string]$_.PrefixOrigin -eq 'Manual' }
}

Function Get-SnapkitStaticDefaultRoute {
    <#
    The static IPv4 default routes (0.0.0.0/0) of the adapter, as rows of either store: every persistent row, and the
    active rows whose origin (Protocol) is NetMgmt, i.e. set by hand. A route DHCP gave has Protocol Dhcp and is left
    alone, even when a static route has the same next hop.
    #>
    param([Parameter(Mandatory = $true)][int]$InterfaceIndex)
    Get-NetRoute -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -PolicyStore PersistentStore -ErrorAction SilentlyContinue
    Get-NetRoute -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -PolicyStore ActiveStore -ErrorAction SilentlyContinue |
        Where-Object { [string]$_.Protocol -eq 'NetMgmt' }
}

Function Get-SnapkitStaticDnsServer {
    <# The DNS servers set on the adapter itself (registry NameServer); empty when they come from DHCP. #>
    param([Parameter(Mandatory = $true)][string]$InterfaceGuid)
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\' + $InterfaceGuid
    $value = (Get-ItemProperty -LiteralPath $key -Name NameServer -ErrorAction SilentlyContinue).NameServer
    if ($value) {
        @($value -split '[,\s]+' | Where-Object { $_ })
    }
}

Function Get-SnapkitIPv4State {
    <#
    The adapter's IPv4 configuration as win_reset_static_ip returns it: dhcp_enabled, ipv4_addresses (ip_address,
    prefix_length, prefix_origin), default_gateways (static ones), dns_servers (static ones). $null without IPv4.
    #>
    param([Parameter(Mandatory = $true)][int]$InterfaceIndex)
    $interface = Get-SnapkitIPv4Interface -InterfaceIndex $InterfaceIndex
    if ($null -eq $interface) {
        return $null
    }
    $adapter = Get-NetAdapter -InterfaceIndex $InterfaceIndex -IncludeHidden -ErrorAction Stop
    $dhcpEnabled = ([string]$interface.Dhcp -eq 'Enabled')

    # Active rows first (their origin is known), then persistent ones not active yet (always manual).
    $byAddress = [ordered]@{}
    foreach ($row in @(Get-SnapkitIPv4Address -InterfaceIndex $InterfaceIndex -Store ActiveStore)) {
        $byAddress[$row.IPAddress] = [ordered]@{ ip_address = $row.IPAddress; prefix_length = [int]$row.PrefixLength; prefix_origin = [string]$row.PrefixOrigin }
    }
    foreach ($row in @(Get-SnapkitIPv4Address -InterfaceIndex $InterfaceIndex -Store PersistentStore)) {
        if (-not $byAddress.Contains($row.IPAddress)) {
            $byAddress[$row.IPAddress] = [ordered]@{ ip_address = $row.IPAddress; prefix_length = [int]$row.PrefixLength; prefix_origin = 'Manual' }
        }
    }
    $addresses = @($byAddress.Keys | Sort-Object | ForEach-Object { $byAddress[$_] })
    $gateways = @(Get-SnapkitStaticDefaultRoute -InterfaceIndex $InterfaceIndex |
            ForEach-Object { $_.NextHop } | Sort-Object -Unique)

    [ordered]@{
        dhcp_enabled = $dhcpEnabled
        ipv4_addresses = $addresses
        default_gateways = $gateways
        dns_servers = @(Get-SnapkitStaticDnsServer -InterfaceGuid $adapter.InterfaceGuid)
    }
}

Function Test-SnapkitIPv4Static {
    <# The selection rule: DHCP off, or a manual IPv4 address. #>
    param([Parameter(Mandatory = $true)]$State)
    (-not $State.dhcp_enabled) -or (@($State.ipv4_addresses | Where-Object { $_.prefix_origin -eq 'Manual' }).Count -gt 0)
}

Function Get-SnapkitExpectedIPv4State {
    <# The configuration after the switch (without the lease): DHCP on, no manual address, and as asked for the rest. #>
    param(
        [Parameter(Mandatory = $true)]$State,
        [bool]$ResetDns = $true,
        [bool]$RemoveDefaultGateway = $true
    )
    [ordered]@{
        dhcp_enabled = $true
        ipv4_addresses = @($State.ipv4_addresses | Where-Object { $_.prefix_origin -ne 'Manual' })
        # @(if ...) and not if ...: an if statement that outputs @() yields $null.
        default_gateways = @(if (-not $RemoveDefaultGateway) { $State.default_gateways })
        dns_servers = @(if (-not $ResetDns) { $State.dns_servers })
    }
}

Function Test-SnapkitSwitchNeeded {
    <# Whether the switch would change anything: the idempotency rule. #>
    param(
        [Parameter(Mandatory = $true)]$State,
        [bool]$ResetDns = $true,
        [bool]$RemoveDefaultGateway = $true
    )
    (Test-SnapkitIPv4Static -State $State) -or
    ($RemoveDefaultGateway -and @($State.default_gateways).Count -gt 0) -or
    ($ResetDns -and @($State.dns_servers).Count -gt 0)
}

Function Test-SnapkitAdapterMatch {
    <#
    Whether a selector names the adapter. Read in this order: 12 hex digits (separators - : . allowed) are a MAC
    address, so 525400123456 is a MAC and not an index; other digits are an interface index (parsed as [long], so a
    long number matches nothing instead of overflowing [int]); anything else is the name (case-insensitive).
    #>
    param(
        [Parameter(Mandatory = $true)]$Adapter,
        [Parameter(Mandatory = $true)][string]$Selector
    )
    $selector = $Selector.Trim()
    $mac = ($selector -replace '[-:.]', '').ToUpperInvariant()
    if ($mac -match '^[0-9A-F]{12}$') {
        return $mac -eq ([string]$Adapter.MacAddress -replace '[-:]', '').ToUpperInvariant()
    }
    if ($selector -match '^\d+$') {
        $index = [long]0
        return [long]::TryParse($selector, [ref]$index) -and ($index -eq [long]$Adapter.InterfaceIndex)
    }
    $selector -eq $Adapter.Name
}

Function Test-SnapkitAdapterEnabled {
    <# Whether the adapter has an active IPv4 interface (a disabled adapter has only its persistent one). #>
    param([Parameter(Mandatory = $true)][int]$InterfaceIndex)
    (Get-SnapkitIPv4InterfaceStore -InterfaceIndex $InterfaceIndex) -eq 'ActiveStore'
}

Function Get-SnapkitDisabledMessage {
    param([Parameter(Mandatory = $true)]$Adapter)
    "Adapter '$($Adapter.Name)' (interface index $($Adapter.InterfaceIndex)) is disabled: it has no active IPv4 interface, and " +
    "Set-NetIPInterface -Dhcp changes only the active one."
}

Function Assert-SnapkitDhcpClient {
    <# Throws unless the DHCP Client service runs and starts automatically: without it no lease ever comes. #>
    $service = Get-Service -Name Dhcp -ErrorAction SilentlyContinue
    $status = if ($null -ne $service) { [string]$service.Status } else { 'missing' }
    $startType = if ($null -ne $service) { [string]$service.StartType } else { 'missing' }
    if ($status -ne 'Running' -or $startType -ne 'Automatic') {
        throw ("The DHCP Client service (Dhcp) is $status with start type $($startType): without it an adapter switched to " +
            "DHCP never gets a lease. Start it and set it to Automatic, then run again; nothing was changed.")
    }
}

Function Find-SnapkitAdapter {
    <#
    The adapters to switch, in interface index order; the selectors that matched nothing; every adapter; and the
    disabled static adapters left out. Without selectors: every enabled adapter whose IPv4 configuration is static
    (Test-SnapkitIPv4Static); disabled static ones are returned apart. A selector naming a disabled adapter throws.
    #>
    param([string[]]$Selector = @())
    $all = @(Get-NetAdapter -ErrorAction Stop | Sort-Object -Property InterfaceIndex)
    $selectors = @($Selector | Where-Object { $_ })
    if ($selectors.Count -eq 0) {
        $static = @($all | Where-Object {
                $state = Get-SnapkitIPv4State -InterfaceIndex $_.InterfaceIndex
                ($null -ne $state) -and (Test-SnapkitIPv4Static -State $state)
            })
        return @{
            adapters = @($static | Where-Object { Test-SnapkitAdapterEnabled -InterfaceIndex $_.InterfaceIndex })
            disabled = @($static | Where-Object { -not (Test-SnapkitAdapterEnabled -InterfaceIndex $_.InterfaceIndex) })
            unmatched = @()
            all = $all
        }
    }
    $unmatched = @($selectors | Where-Object {
            $item = $_
            @($all | Where-Object { Test-SnapkitAdapterMatch -Adapter $_ -Selector $item }).Count -eq 0
        })
    $selected = @($all | Where-Object {
            $adapter = $_
            @($selectors | Where-Object { Test-SnapkitAdapterMatch -Adapter $adapter -Selector $_ }).Count -gt 0
        })
    if ($unmatched.Count -eq 0) {
        foreach ($adapter in $selected) {
            if (-not (Test-SnapkitAdapterEnabled -InterfaceIndex $adapter.InterfaceIndex)) {
                throw "adapters: $(Get-SnapkitDisabledMessage -Adapter $adapter) Enable it first, or leave it out of adapters."
            }
        }
    }
    @{ adapters = $selected; disabled = @(); unmatched = $unmatched; all = $all }
}

Function Remove-SnapkitNetObject {
    <#
    Removes CIM rows (addresses, routes) with their own cmdlet. When a removal fails, the row is read again: gone
    (removed with its twin of the other store) is fine, still there is the error. The error category is not trusted.
    #>
    param(
        [Parameter(Mandatory = $true)][string]$Command,
        [object[]]$InputObject = @()
    )
    foreach ($row in $InputObject) {
        try {
            & $Command -InputObject $row -Confirm:$false -ErrorAction Stop
        }
        catch {
            $failure = $_
            if ($null -ne (Get-CimInstance -InputObject $row -ErrorAction SilentlyContinue)) {
                throw $failure
            }
        }
    }
}

Function Wait-SnapkitDhcpLease {
    <# The DHCP address the adapter holds within TimeoutSeconds, else $null. #>
    param(
        [Parameter(Mandatory = $true)][int]$InterfaceIndex,
        [int]$TimeoutSeconds = 15
    )
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    do {
        $lease = Get-NetIPAddress -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -PrefixOrigin Dhcp -ErrorAction SilentlyContinue |
            Where-Object { [string]$_.AddressState -eq 'Preferred' } | Select-Object -First 1
        if ($null -ne $lease) {
            return $lease.IPAddress
        }
        Start-Sleep -Milliseconds 500
    } while ((Get-Date) -lt $deadline)
    $null
}

Function Reset-SnapkitIPv4DnsServer {
    <#
    The adapter's IPv4 DNS servers back to those from DHCP. Set-DnsClientServerAddress -ResetServerAddresses would
    reset the IPv6 ones too; Win32_NetworkAdapterConfiguration.SetDNSServerSearchOrder without a list acts on IPv4 only.
    #>
    param([Parameter(Mandatory = $true)][int]$InterfaceIndex)
    $configuration = Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter "InterfaceIndex = $InterfaceIndex"
    $answer = Invoke-CimMethod -InputObject $configuration -MethodName SetDNSServerSearchOrder -ErrorAction Stop
    # 0: done; 1: done, takes effect after a reboot.
    if (@(0, 1) -notcontains [int]$answer.ReturnValue) {
        throw "SetDNSServerSearchOrder returned $($answer.ReturnValue)."
    }
}

Function Invoke-SnapkitDhcpSwitch {
    <#
    Switches one adapter to DHCP in the order that never leaves it with neither: DHCP on first, then the static
    default routes and the manual addresses (both stores) go, the IPv4 DNS servers are reset, renew, and the adapter
    is read again (DHCP still off is a failure). Returns before, after, changed and warnings (no lease, APIPA, no link
    are warnings: the adapter is on DHCP and gets a lease when a server answers).
    #>
    param(
        [Parameter(Mandatory = $true)][int]$InterfaceIndex,
        [bool]$ResetDns = $true,
        [bool]$RemoveDefaultGateway = $true,
        [bool]$Renew = $true,
        [int]$LeaseTimeoutSeconds = 15
    )
    $adapter = Get-NetAdapter -InterfaceIndex $InterfaceIndex -IncludeHidden -ErrorAction Stop
    $before = Get-SnapkitIPv4State -InterfaceIndex $InterfaceIndex
    $warnings = @()
    if ($null -eq $before) {
        throw "Adapter '$($adapter.Name)' (interface index $InterfaceIndex) has no IPv4 interface; bind IPv4 to it first."
    }
    if (-not (Test-SnapkitSwitchNeeded -State $before -ResetDns $ResetDns -RemoveDefaultGateway $RemoveDefaultGateway)) {
        return [ordered]@{ before = $before; after = $before; changed = $false; warnings = $warnings }
    }
    if (-not (Test-SnapkitAdapterEnabled -InterfaceIndex $InterfaceIndex)) {
        # Set-NetIPInterface -Dhcp acts on the active store only: the adapter would lose its addresses and stay off DHCP.
        throw (Get-SnapkitDisabledMessage -Adapter $adapter)
    }

    Set-NetIPInterface -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -Dhcp Enabled -ErrorAction Stop
    if ($RemoveDefaultGateway) {
        Remove-SnapkitNetObject -Command 'Remove-NetRoute' -InputObject @(Get-SnapkitStaticDefaultRoute -InterfaceIndex $InterfaceIndex)
    }
    Remove-SnapkitNetObject -Command 'Remove-NetIPAddress' -InputObject @(Get-SnapkitManualIPv4Address -InterfaceIndex $InterfaceIndex)
    if ($ResetDns) {
        Reset-SnapkitIPv4DnsServer -InterfaceIndex $InterfaceIndex
    }

    if ($Renew) {
        if ([string]$adapter.MediaConnectionState -ne 'Connected') {
            $warnings += "Adapter '$($adapter.Name)' has no link: DHCP is enabled, it gets a lease when it connects."
        }
        else {
            $configuration = Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter "InterfaceIndex = $InterfaceIndex"
            $null = Invoke-CimMethod -InputObject $configuration -MethodName RenewDHCPLease -ErrorAction SilentlyContinue
            $lease = Wait-SnapkitDhcpLease -InterfaceIndex $InterfaceIndex -TimeoutSeconds $LeaseTimeoutSeconds
            if ($null -eq $lease) {
                $apipa = @(Get-NetIPAddress -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue |
                        Where-Object { $_.IPAddress -like '169.254.*' } | ForEach-Object { $_.IPAddress })
                $got = if ($apipa.Count -gt 0) { "only the APIPA address $($apipa -join ', ')" } else { 'no address' }
                $warnings += "Adapter '$($adapter.Name)' is on DHCP but got no lease within $LeaseTimeoutSeconds seconds ($got); Windows keeps asking."
            }
        }
    }
    $after = Get-SnapkitIPv4State -InterfaceIndex $InterfaceIndex
    if (-not $after.dhcp_enabled) {
        throw "Adapter '$($adapter.Name)': DHCP is still off after Set-NetIPInterface -Dhcp Enabled."
    }
    [ordered]@{
        before = $before
        after = $after
        changed = $true
        warnings = $warnings
    }
}

Function Restore-SnapkitIPv4State {
    <# Puts a saved static configuration back (DHCP off, the manual addresses, static default routes, IPv4 DNS servers). #>
    param(
        [Parameter(Mandatory = $true)][int]$InterfaceIndex,
        [Parameter(Mandatory = $true)]$State
    )
    Set-NetIPInterface -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -Dhcp Disabled -ErrorAction Stop
    foreach ($address in @($State.ipv4_addresses | Where-Object { $_.prefix_origin -eq 'Manual' })) {
        $null = New-NetIPAddress -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -IPAddress $address.ip_address `
            -PrefixLength $address.prefix_length -ErrorAction SilentlyContinue
    }
    foreach ($gateway in @($State.default_gateways)) {
        $null = New-NetRoute -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -NextHop $gateway `
            -ErrorAction SilentlyContinue
    }
    if (@($State.dns_servers).Count -gt 0) {
        Set-DnsClientServerAddress -InterfaceIndex $InterfaceIndex -ServerAddresses @($State.dns_servers) -ErrorAction Stop
    }
}

Function Get-SnapkitNetAdapterRulesScript {
    <# The text of every function of this module, for a script that runs where the module util cannot be loaded. #>
    $functions = $MyInvocation.MyCommand.Module.ExportedFunctions.Values | Sort-Object -Property Name
    $definitions = foreach ($function in $functions) {
        "Function $($function.Name) {`r`n$($function.Definition)`r`n}`r`n"
    }
    $definitions -join "`r`n"
}
