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
    The static IPv4 default routes (0.0.0.0/0) of the adapter, as rows of either store. Persistent routes are static.
    An active route is static when DHCP is off, or when a persistent route has the same next hop; an active route
    without a persistent twin on a DHCP interface is the gateway DHCP gave, which is left alone.
    #>
    param(
        [Parameter(Mandatory = $true)][int]$InterfaceIndex,
        [bool]$DhcpEnabled
    )
    $persistent = @(Get-NetRoute -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' `
            -PolicyStore PersistentStore -ErrorAction SilentlyContinue)
    $active = @(Get-NetRoute -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' `
            -PolicyStore ActiveStore -ErrorAction SilentlyContinue)
    $staticHops = @($persistent | ForEach-Object { $_.NextHop })
    $persistent
    $active | Where-Object { (-not $DhcpEnabled) -or ($staticHops -contains $_.NextHop) }
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
    $gateways = @(Get-SnapkitStaticDefaultRoute -InterfaceIndex $InterfaceIndex -DhcpEnabled $dhcpEnabled |
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
    <# Whether a selector names the adapter: its name (case-insensitive), its interface index, or its MAC address. #>
    param(
        [Parameter(Mandatory = $true)]$Adapter,
        [Parameter(Mandatory = $true)][string]$Selector
    )
    $selector = $Selector.Trim()
    if ($selector -match '^\d+$') {
        return [int]$selector -eq [int]$Adapter.InterfaceIndex
    }
    $mac = ($selector -replace '[-:.]', '').ToUpperInvariant()
    if ($mac -match '^[0-9A-F]{12}$' -and $mac -eq ([string]$Adapter.MacAddress -replace '-', '').ToUpperInvariant()) {
        return $true
    }
    $selector -eq $Adapter.Name
}

Function Find-SnapkitAdapter {
    <#
    The adapters to switch, in interface index order, and the selectors that matched nothing. Without selectors:
    every adapter whose IPv4 configuration is static (Test-SnapkitIPv4Static).
    #>
    param([string[]]$Selector = @())
    $all = @(Get-NetAdapter -ErrorAction Stop | Sort-Object -Property InterfaceIndex)
    $selectors = @($Selector | Where-Object { $_ })
    if ($selectors.Count -eq 0) {
        $selected = @($all | Where-Object {
                $state = Get-SnapkitIPv4State -InterfaceIndex $_.InterfaceIndex
                ($null -ne $state) -and (Test-SnapkitIPv4Static -State $state)
            })
        return @{ adapters = $selected; unmatched = @(); all = $all }
    }
    $unmatched = @($selectors | Where-Object {
            $item = $_
            @($all | Where-Object { Test-SnapkitAdapterMatch -Adapter $_ -Selector $item }).Count -eq 0
        })
    $selected = @($all | Where-Object {
            $adapter = $_
            @($selectors | Where-Object { Test-SnapkitAdapterMatch -Adapter $adapter -Selector $_ }).Count -gt 0
        })
    @{ adapters = $selected; unmatched = $unmatched; all = $all }
}

Function Remove-SnapkitNetObject {
    <# Removes CIM rows (addresses, routes) with their own cmdlet; a row already gone with its twin is not an error. #>
    param(
        [Parameter(Mandatory = $true)][string]$Command,
        [object[]]$InputObject = @()
    )
    foreach ($row in $InputObject) {
        try {
            & $Command -InputObject $row -Confirm:$false -ErrorAction Stop
        }
        catch {
            if ([string]$_.CategoryInfo.Category -ne 'ObjectNotFound') {
                throw
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

Function Invoke-SnapkitDhcpSwitch {
    <#
    Switches one adapter to DHCP, in the order that leaves nothing static behind: static default routes, manual
    addresses (both stores), DHCP on, DNS reset, renew. Returns before, after, changed and warnings (no lease, APIPA,
    no link are warnings: the adapter is on DHCP and gets a lease when a server answers).
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

    if ($RemoveDefaultGateway) {
        Remove-SnapkitNetObject -Command 'Remove-NetRoute' -InputObject @(
            Get-SnapkitStaticDefaultRoute -InterfaceIndex $InterfaceIndex -DhcpEnabled $before.dhcp_enabled)
    }
    Remove-SnapkitNetObject -Command 'Remove-NetIPAddress' -InputObject @(Get-SnapkitManualIPv4Address -InterfaceIndex $InterfaceIndex)

    # Without -PolicyStore the active and the persistent store are both set; an adapter with no active IPv4
    # interface only has the persistent one.
    if ((Get-SnapkitIPv4InterfaceStore -InterfaceIndex $InterfaceIndex) -eq 'PersistentStore') {
        Set-NetIPInterface -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -Dhcp Enabled -PolicyStore PersistentStore -ErrorAction Stop
    }
    else {
        Set-NetIPInterface -InterfaceIndex $InterfaceIndex -AddressFamily IPv4 -Dhcp Enabled -ErrorAction Stop
    }
    if ($ResetDns) {
        Set-DnsClientServerAddress -InterfaceIndex $InterfaceIndex -ResetServerAddresses -ErrorAction Stop
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
    [ordered]@{
        before = $before
        after = Get-SnapkitIPv4State -InterfaceIndex $InterfaceIndex
        changed = $true
        warnings = $warnings
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
